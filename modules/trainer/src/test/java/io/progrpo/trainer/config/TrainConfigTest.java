package io.progrpo.trainer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {

    @Test
    void defaultsAreTheDocumentedBase() {
        TrainConfig d = TrainConfig.defaults();
        assertEquals("flow-grpo", d.method());
        assertEquals(24, d.groupSize());
        assertEquals(12, d.subsetSize());
        assertEquals(10, d.samplerSteps());
        assertEquals(20, d.evalSteps());
        assertEquals(0.7, d.noiseLevel());
        assertEquals(4.5, d.guidanceScale());
        assertEquals(1e-4, d.clipRange());
        assertEquals(5.0, d.advClip());
        assertEquals(0.0, d.beta());
        assertEquals(3e-4, d.lr());
        assertEquals(24, d.microBatch());
        assertEquals(400, d.pretrainSteps());
        assertEquals(0, d.shadowEvery(), "no shadow groups by default");
        assertEquals(2, TrainConfig.preset("pro-grpo+demo").shadowEvery(), "the demo measures previews every other epoch");
        assertEquals("none", d.pruneSchedule());
        assertTrue(d.detachUncond());
    }

    @Test
    void theWorldIsPixelByDefaultAndTheLatentOverlayChoosesTheSceneWorldAndItsLearnedReward() {
        assertEquals("pixel", TrainConfig.defaults().world());
        assertFalse(TrainConfig.defaults().latentWorld());
        TrainConfig l = TrainConfig.preset("flow-grpo+demo+latent");
        assertEquals("latent", l.world());
        assertTrue(l.latentWorld());
        assertEquals("scene_preference", l.reward());
        assertEquals(20, l.evalSteps());
        assertTrue(TrainConfig.resolve("pro-grpo+latent", null, List.of("world=latent-quick")).latentWorld());
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("world=latnet")));
        assertEquals("world", e.field());
        assertTrue(e.getMessage().contains("latnet") && e.getMessage().contains("pixel, latent, latent-quick"), e.getMessage());
    }

    @Test
    void theTrainingOptionsAreCheckedWithTheirField() {
        TrainConfig ok = TrainConfig.resolve(null, null, List.of("emaDecay=0.99", "ratioNorm=grpo-guard", "trajectoryDtype=bfloat16"));
        assertEquals(0.99, ok.emaDecay());
        assertEquals("grpo-guard", ok.ratioNorm());
        assertEquals("bfloat16", ok.trajectoryDtype());
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("emaDecay=1.0")));
        assertEquals("emaDecay", e.field());
        assertTrue(e.getMessage().contains("[0, 1)") && e.getMessage().contains("1.0"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve("dance-grpo", null, List.of("ratioNorm=grpo-guard")));
        assertEquals("ratioNorm", e.field());
        assertTrue(e.getMessage().contains("dance-grpo") && e.getMessage().contains("ratioNorm=none"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("trajectoryDtype=int8")));
        assertEquals("trajectoryDtype", e.field());
        assertTrue(e.getMessage().contains("float32, float16, bfloat16") && e.getMessage().contains("int8"), e.getMessage());
        assertEquals(List.of("emaDecay", "ratioNorm", "trajectoryDtype"),
                TrainConfig.fieldNames().subList(TrainConfig.fieldNames().indexOf("emaDecay"), TrainConfig.fieldNames().indexOf("emaDecay") + 3));
    }

    @Test
    void evalSamplesAndPromptSeedAreCheckedWithTheirField() {
        TrainConfig d = TrainConfig.resolve(null, null, List.of());
        assertEquals(1, d.evalSamples());
        assertEquals(TrainConfig.PROMPT_SEED_OF_RUN, d.promptSeed());
        assertEquals(8, TrainConfig.resolve(null, null, List.of("evalSamples=8")).evalSamples());
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("evalSamples=0")));
        assertEquals("evalSamples", e.field());
        assertTrue(e.getMessage().contains(">= 1") && e.getMessage().contains("got 0"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, null, List.of("promptSeed=-2")));
        assertEquals("promptSeed", e.field());
        assertTrue(e.getMessage().contains("-1 for the run's seed") && e.getMessage().contains("got -2"), e.getMessage());
    }

    @Test
    void methodPresetsSetThePaperSchedules() {
        assertEquals(List.of("flow-grpo", "dance-grpo", "uniform-subsample", "static-ovf", "pro-grpo",
                "pro-grpo-flash", "pro-grpo-adaptive", "pro-grpo-dance", "paper-flow", "demo", "quick", "latent"), TrainConfig.listPresets());
        TrainConfig pro = TrainConfig.preset("pro-grpo");
        assertEquals(48, pro.groupSize());
        assertEquals("48>24@5>12@7", pro.pruneSchedule());
        assertEquals(12, pro.trainedGroupSize());
        TrainConfig flash = TrainConfig.preset("pro-grpo-flash");
        assertEquals(24, flash.groupSize());
        assertEquals("24>16@5>12@7", flash.pruneSchedule());
        TrainConfig ovf = TrainConfig.preset("static-ovf");
        assertEquals(24, ovf.groupSize());
        assertEquals(12, ovf.trainedGroupSize());
        assertEquals(12, TrainConfig.preset("uniform-subsample").subsetSize());
        TrainConfig dance = TrainConfig.preset("dance-grpo");
        assertEquals(16, dance.groupSize());
        assertEquals(20, dance.samplerSteps());
        assertEquals(0.0, dance.beta());
        assertFalse(dance.detachUncond());
        assertEquals(24, TrainConfig.preset("flow-grpo").trainedGroupSize());
    }

    @Test
    void overlaysCombineWithMethods() {
        TrainConfig c = TrainConfig.preset("pro-grpo+paper-flow+quick");
        assertEquals("pro-grpo", c.method());
        assertEquals(48, c.groupSize());
        assertEquals(6, c.evalSteps());
        assertEquals(0.01, c.beta());
        assertEquals(1, c.epochs());
        TrainConfig demo = TrainConfig.preset("demo");
        assertEquals("flow-grpo", demo.method());
        assertTrue(demo.epochs() < TrainConfig.defaults().epochs());
    }

    @Test
    void unknownPresetIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.preset("pro-grpo+fast"));
        assertTrue(e.getMessage().contains("'fast'"), e.getMessage());
        assertTrue(e.getMessage().contains("pro-grpo-flash"), e.getMessage());
    }

    @Test
    void jsonRoundTripOfEveryPreset() {
        for (String p : TrainConfig.listPresets()) {
            TrainConfig c = TrainConfig.preset(p);
            assertEquals(c, TrainConfig.fromJson(c.toJson()), p);
        }
        TrainConfig odd = TrainConfig.defaults().withSets(List.of("lr=1.2345678901234567e-5", "seed=-9007199254740993",
                "outDir=runs/with space"));
        assertEquals(odd, TrainConfig.fromJson(odd.toJson()));
    }

    @Test
    void resolutionOrderIsPresetThenFileThenSet(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.json");
        Files.writeString(file, "{\"lr\": 0.001, \"epochs\": 7, \"noiseLevel\": 1}");
        TrainConfig c = TrainConfig.resolve("pro-grpo", file, List.of("lr=1e-4", "epochs=9", "epochs=8"));
        assertEquals("pro-grpo", c.method());
        assertEquals(1e-4, c.lr());
        assertEquals(8, c.epochs());
        assertEquals(1.0, c.noiseLevel());
        assertEquals(48, c.groupSize());
        assertEquals(TrainConfig.defaults(), TrainConfig.resolve(null, null, null));
    }

    @Test
    void overridesAreValidatedTogether() {
        // Each change alone would be inconsistent (schedule must start at groupSize); together they are fine.
        TrainConfig c = TrainConfig.preset("pro-grpo").withSets(List.of("groupSize=32", "pruneSchedule=32>8@6"));
        assertEquals(32, c.groupSize());
        assertEquals(8, c.trainedGroupSize());
    }

    @Test
    void unknownFieldInFileIsNamedWithTheValidOnes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"lrr\": 0.1}");
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertEquals("lrr", e.field());
        assertTrue(e.getMessage().contains("unknown config field 'lrr'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'lr'"), e.getMessage());
        assertTrue(e.getMessage().contains("valid fields: method, seed, epochs"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void wrongTypeInFileNamesFieldTypeAndValue(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"epochs\": \"ten\"}");
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertEquals("epochs", e.field());
        assertTrue(e.getMessage().contains("expects an integer (int, -2147483648 to 2147483647), got \"ten\""), e.getMessage());

        Files.writeString(file, "{\"epochs\": 2.5}");
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertTrue(e.getMessage().contains("got 2.5"), e.getMessage());

        Files.writeString(file, "{\"detachUncond\": 1}");
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertTrue(e.getMessage().contains("'detachUncond'") && e.getMessage().contains("true or false, got 1"),
                e.getMessage());

        Files.writeString(file, "{\"reward\": 3}");
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertTrue(e.getMessage().contains("expects a string, got 3"), e.getMessage());
    }

    @Test
    void malformedOrNonObjectJsonNamesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\n \"lr\": 0.1,\n oops\n}");
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertTrue(e.getMessage().contains("malformed JSON in file " + file), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());

        Files.writeString(file, "[1, 2]");
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, file, null));
        assertTrue(e.getMessage().contains("must hold a JSON object") && e.getMessage().contains("array"),
                e.getMessage());

        Path missing = dir.resolve("missing.json");
        e = assertThrows(ConfigException.class, () -> TrainConfig.resolve(null, missing, null));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void setStringsAreParsedByFieldType() {
        TrainConfig c = TrainConfig.defaults().withSets(List.of("seed=7", "lr=1e-5", "detachUncond=FALSE",
                "reward=alignment:1.0,jpeg_compressibility:0.1", "device=cuda:0"));
        assertEquals(7L, c.seed());
        assertEquals(1e-5, c.lr());
        assertFalse(c.detachUncond());
        assertEquals(Map.of("alignment", 1.0, "jpeg_compressibility", 0.1), TrainConfig.parseRewardSpec(c.reward()));
        assertEquals("cuda:0", c.device());

        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.defaults().withSets(List.of("samplerSteps=abc")));
        assertEquals("samplerSteps", e.field());
        assertTrue(e.getMessage().contains("expects an integer (int, -2147483648 to 2147483647), got 'abc'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("detachUncond=yes")));
        assertTrue(e.getMessage().contains("true or false, got 'yes'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("lr")));
        assertTrue(e.getMessage().contains("key=value, got 'lr'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("nosuch=1")));
        assertTrue(e.getMessage().contains("'nosuch' in --set"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = ';', quoteCharacter = '"', value = {
            "method; ppo; 'ppo'",
            "epochs; 0; got 0",
            "groupsPerEpoch; -1; got -1",
            "groupSize; 1; got 1",
            "samplerSteps; 1; got 1",
            "evalSteps; 0; got 0",
            "noiseLevel; -0.1; got -0.1",
            "noiseLevel; NaN; got 'NaN'",
            "shift; 0; got 0.0",
            "eta; -1; got -1.0",
            "guidanceScale; Infinity; got 'Infinity'",
            "guidanceScale; 0.5; got 0.5",
            "trainStepFraction; 0; got 0.0",
            "trainStepFraction; 1.5; got 1.5",
            "clipRange; 1.5; got 1.5",
            "advClip; 0; got 0.0",
            "stdMode; batch; 'batch'",
            "beta; -0.01; got -0.01",
            "lr; 0; got 0.0",
            "beta1; 1.0; got 1.0",
            "beta2; -0.5; got -0.5",
            "weightDecay; -1; got -1.0",
            "gradClip; -1; got -1.0",
            "microBatch; 0; got 0",
            "reward; Alignment; 'Alignment'",
            "reward; alignment:abc; 'abc'",
            "reward; alignment:1,alignment:2; appears twice",
            "rewardAggregation; mean; 'mean'",
            "evalEvery; -1; got -1",
            "evalPrompts; -2; got -2",
            "checkpointEvery; -1; got -1",
            "device; gpu; 'gpu'",
            "modelDtype; float16; 'float16'",
            "imageSize; 2; got 2",
            "modelWidth; 0; got 0",
            "pretrainSteps; -5; got -5",
            "shadowEvery; -1; got -1",
            "klForm; Code; 'Code'",
            "adaptiveThreshold; 1.0; got 1.0",
            "adaptiveThreshold; 0; got 0.0",
            "computeBudget; 0; got 0.0",
            "computeBudget; 11; got 11.0",
            "pruneSchedule; 24>12@5; got '24>12@5'",
    })
    void badValuesNameFieldAndValue(String field, String value, String expected) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.defaults().withSets(List.of(field + "=" + value)));
        assertEquals(field, e.field());
        assertTrue(e.getMessage().contains(field), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', quoteCharacter = '"', value = {
            "none; needs a pruneSchedule",
            "24>12@5; starts at G_max = 24 but groupSize is 48",
            "48>48@5; size 48 must be in [2, 47]",
            "48>24@5>1@7; size 1 must be in [2, 23]",
            "48>24@5>12@5; checkpoint step 5 must be in [6, 9]",
            "48>24@10; checkpoint step 10 must be in [1, 9]",
            "48>24@0; checkpoint step 0 must be in [1, 9]",
            "48-24; must look like G_max>size@step",
            "Standard; lower-case preset name",
    })
    void badPruneSchedulesAreExplained(String schedule, String expected) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("pro-grpo").withSets(List.of("pruneSchedule=" + schedule)));
        assertEquals("pruneSchedule", e.field());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void namedSchedulesAreResolvedAndCheckedAgainstGroupSizeAndSteps() {
        TrainConfig c = TrainConfig.preset("pro-grpo").withSets(List.of("pruneSchedule=flow-standard"));
        assertEquals("flow-standard", c.pruneSchedule());
        assertEquals(12, c.trainedGroupSize());
        assertEquals(12 * c.groupsPerEpoch(), c.derivedTotals().trajectoriesTrainedPerEpoch());
        assertEquals(324, c.samplingSchedule().nfe());
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("pro-grpo").withSets(List.of("pruneSchedule=standard")));
        assertTrue(e.getMessage().contains("'standard' is neither a spec") && e.getMessage().contains("flow-standard"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("pro-grpo").withSets(List.of("pruneSchedule=flow-flash")));
        assertTrue(e.getMessage().contains("starts at G_max = 24 but groupSize is 48"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("pro-grpo").withSets(List.of("pruneSchedule=diffusion")));
        assertTrue(e.getMessage().contains("is for 50 sampler steps, but samplerSteps is 10"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("pro-grpo").withSets(List.of("groupSize=24", "pruneSchedule=flow-baseline")));
        assertTrue(e.getMessage().contains("never prunes"), e.getMessage());
    }

    @Test
    void subsetMustFitTheGroup() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainConfig.preset("static-ovf").withSets(List.of("subsetSize=25")));
        assertEquals("subsetSize", e.field());
        assertTrue(e.getMessage().contains("< groupSize (24)") && e.getMessage().contains("got 25"), e.getMessage());
        // flow-grpo ignores subsetSize, so a large one is not an error there
        assertEquals(30, TrainConfig.defaults().withSets(List.of("subsetSize=30")).subsetSize());
    }

    @Test
    void derivedTotalsMatchAnIndependentCount() {
        SplittableRandom rnd = new SplittableRandom(2512_15347L);
        for (int trial = 0; trial < 200; trial++) {
            String method = Method.configNames().get(rnd.nextInt(Method.configNames().size()));
            int groups = 1 + rnd.nextInt(16);
            int steps = 3 + rnd.nextInt(40);
            int g = 4 + rnd.nextInt(60);
            int k = 2 + rnd.nextInt(g - 2);
            double w = rnd.nextBoolean() ? 1.0 : 4.5;
            double fraction = 0.05 + 0.95 * rnd.nextDouble();
            int micro = 1 + rnd.nextInt(40);
            int mid = 2 + (g - 2) / 2;
            int last = 2 + rnd.nextInt(Math.max(1, mid - 2));
            String schedule = Method.byName(method).prunesDuringSampling()
                    ? (mid < g && last < mid ? g + ">" + mid + "@1>" + last + "@2" : g + ">2@1") : "none";
            // the adaptive method's configured funnel ends at its k
            if (method.equals("pro-grpo-adaptive")) k = Integer.parseInt(schedule.substring(schedule.lastIndexOf('>') + 1).split("@")[0]);
            TrainConfig c = TrainConfig.defaults().with(Map.of("method", method, "groupsPerEpoch", groups,
                    "samplerSteps", steps, "groupSize", g, "subsetSize", k, "guidanceScale", w,
                    "trainStepFraction", fraction, "microBatch", micro, "pruneSchedule", schedule, "shadowEvery", 1), "test");

            int trainedGroup;
            if (method.equals("static-ovf") || method.equals("uniform-subsample")) {
                trainedGroup = k;
            } else if (method.startsWith("pro-grpo")) {
                String[] parts = schedule.split(">");
                trainedGroup = Integer.parseInt(parts[parts.length - 1].split("@")[0]);
            } else {
                trainedGroup = g;
            }
            int trainedSteps = Math.max(1, (int) (fraction * (steps - 1) + 1e-9));
            long transitions = (long) trainedGroup * groups * trainedSteps;
            DerivedTotals t = c.derivedTotals();
            assertEquals((long) g * groups, t.trajectoriesSampledPerEpoch(), c::toString);
            assertEquals((long) trainedGroup * groups, t.trajectoriesTrainedPerEpoch(), c::toString);
            assertEquals(trainedSteps, t.trainedStepsPerTrajectory(), c::toString);
            assertEquals(transitions, t.transitionsTrainedPerEpoch(), c::toString);
            assertEquals((long) Math.ceil(transitions / (double) micro), t.backwardPassesPerEpoch(), c::toString);
            assertEquals((long) g * steps * groups * (w == 1.0 ? 1 : 2), t.samplingNfePerEpochUnpruned(), c::toString);
        }
    }

    @Test
    void trainStepFractionOneTrainsAllButTheLastStep() {
        assertEquals(9, TrainConfig.defaults().trainedStepsPerTrajectory());
        assertEquals(4, TrainConfig.defaults().withSets(List.of("trainStepFraction=0.5")).trainedStepsPerTrajectory());
        assertEquals(1, TrainConfig.defaults().withSets(List.of("trainStepFraction=0.01")).trainedStepsPerTrajectory());
    }

    @Test
    void describeListsFieldsMarksChangesAndPrintsTotals() {
        String d = TrainConfig.preset("pro-grpo").describe();
        assertTrue(d.contains("groupSize") && d.contains("* 48"), d);
        assertTrue(d.contains("sampling NFE / epoch (unpruned)"), d);
        // 48 * 10 steps * 8 groups * 2 (CFG)
        assertTrue(d.contains("7,680"), d);
        assertTrue(d.lines().anyMatch(l -> l.contains("lr") && l.contains("3.0E-4") && !l.contains("*")), d);
    }

    @Test
    void rewardSpecParsing() {
        assertEquals(Map.of("alignment", 1.0), TrainConfig.parseRewardSpec("alignment"));
        assertEquals(List.of("a", "b_c"), List.copyOf(TrainConfig.parseRewardSpec("a:0.5, b_c:-2").keySet()));
        assertEquals(-2.0, TrainConfig.parseRewardSpec("a:0.5, b_c:-2").get("b_c"));
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.parseRewardSpec("a:Infinity"));
        assertTrue(e.getMessage().contains("'Infinity'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.parseRewardSpec(""));
        assertEquals("reward", e.field());
    }

    /** The library entry points read values from outside as strictly as the CLI does. */
    @Test
    void valuesFromOutsideAreReadStrictly() {
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.fromJson("{\"epochs\": 2} {\"epochs\": 3}"));
        assertEquals("json", e.field());
        assertTrue(e.getMessage().contains("must hold one JSON object"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.fromJson("{\"lr\": 0.1, \"lr\": 0.2}"));
        assertEquals("lr", e.field());
        assertTrue(e.getMessage().contains("appears twice") && e.getMessage().contains("line 1, column 2"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().with(Map.of("epochs", 3_000_000_000L), "api"));
        assertTrue(e.getMessage().contains("3000000000 (out of range)"), e.getMessage());
        assertEquals(7, TrainConfig.defaults().with(Map.of("epochs", 7L), "api").epochs());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().with(Map.of("epochs", 2.0), "api"));
        assertEquals("epochs", e.field());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().with(Map.of("lr", Double.NaN), "api"));
        assertEquals("lr", e.field());
        e = assertThrows(ConfigException.class, () -> TrainConfig.preset("pro-grpo+"));
        assertEquals("preset", e.field());
        e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("device=cu\nda")));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().contains("'cu\\nda'"), e.getMessage());
        assertEquals(3e-4, TrainConfig.defaults().withSets(List.of("lr=3E-4")).lr());
        assertEquals(5, TrainConfig.defaults().withSets(List.of("epochs=+5")).epochs());
    }

    /**
     * asyncReward was removed (no code read it); a config.json of an earlier run still holds it, so the key is read,
     * must be false, and is dropped: old run directories still evaluate, and true is refused saying why.
     */
    @Test
    void theRetiredAsyncRewardKeyIsReadOnlyWhenOff(@TempDir Path dir) throws Exception {
        assertFalse(TrainConfig.fieldNames().contains("asyncReward"));
        String old = TrainConfig.preset("pro-grpo").toJson().replaceFirst("\\}\\s*$", ",\n  \"asyncReward\" : false\n}");
        assertTrue(old.contains("asyncReward"), old);
        assertEquals(TrainConfig.preset("pro-grpo"), TrainConfig.fromJson(old));
        Path file = dir.resolve("config.json");
        Files.writeString(file, old);
        assertEquals(TrainConfig.preset("pro-grpo"), TrainConfig.resolve(null, file, null));
        assertEquals(TrainConfig.defaults(), TrainConfig.defaults().withSets(List.of("asyncReward=false")));
        assertEquals(TrainConfig.defaults(), TrainConfig.defaults().with(Map.of("asyncReward", false), "test"));
        for (Map<String, ?> bad : List.<Map<String, ?>>of(Map.of("asyncReward", true), Map.of("asyncReward", "true"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().with(bad, "test"));
            assertEquals("asyncReward", e.field());
            assertTrue(e.getMessage().contains("was removed") && e.getMessage().contains("got true"), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("asyncReward=maybe")));
        assertTrue(e.getMessage().contains("true or false, got 'maybe'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TrainConfig.fromJson(old.replace("\"asyncReward\" : false", "\"asyncReward\" : true")));
        assertTrue(e.getMessage().contains("was removed"), e.getMessage());
    }

    /** The method list is Method's: the config accepts exactly its names, and each has a preset of the same name. */
    @Test
    void theMethodsAreMethodsNames() {
        assertEquals(List.of("flow-grpo", "dance-grpo", "uniform-subsample", "static-ovf", "pro-grpo", "pro-grpo-flash",
                "pro-grpo-adaptive", "pro-grpo-dance"), Method.configNames());
        for (Method m : Method.values()) {
            TrainConfig c = TrainConfig.preset(m.configName());
            assertEquals(m.configName(), c.method());
            assertEquals(m.prunesDuringSampling(), c.prunes(), m.configName());
            assertEquals(m.trainsSubset(), c.samplingSchedule().checkpointCount() == 1
                    && c.samplingSchedule().checkpoints()[0] == c.samplerSteps(), m.configName());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of("method=Flow-GRPO")));
        assertTrue(e.getMessage().contains(String.join(", ", Method.configNames())), e.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> Method.byName("grpo"));
        assertTrue(u.getMessage().contains("'grpo'") && u.getMessage().contains("pro-grpo-flash"), u.getMessage());
    }

    @Test
    void theDiffusionSettingOfThePaperIsAPreset() {
        TrainConfig c = TrainConfig.preset("pro-grpo-dance");
        assertEquals(50, c.samplerSteps());
        assertEquals("48 -> 32 @30 -> 8 @40 of 50 steps (ovf)", c.samplingSchedule().describe());
        assertEquals(8, c.trainedGroupSize());
        assertTrue(Method.byName(c.method()).isDiffusion() && c.prunes());
        ConfigException e = assertThrows(ConfigException.class, () -> c.withSets(List.of("eta=0")));
        assertTrue(e.getMessage().contains("for method pro-grpo-dance"), e.getMessage());
    }

    @Test
    void theKlFormIsFlowGrpoCodesByDefaultAndTheOtherIsNamed() {
        assertEquals("code", TrainConfig.defaults().klForm());
        assertEquals(List.of("code", "policy"), TrainConfig.KL_FORMS);
        assertEquals("policy", TrainConfig.defaults().withSets(List.of("klForm=policy")).klForm());
    }

    @Test
    void theAdaptiveMethodNeedsShadowGroupsAndSurvivorsBelowItsLargestGroup() {
        TrainConfig c = TrainConfig.preset("pro-grpo-adaptive");
        assertEquals(48, c.groupSize());
        assertEquals(12, c.subsetSize());
        assertEquals(2, c.shadowEvery());
        assertTrue(c.prunes());
        assertEquals(0.75, c.adaptiveThreshold());
        assertEquals(1.0, c.computeBudget());
        ConfigException e = assertThrows(ConfigException.class, () -> c.withSets(List.of("shadowEvery=0")));
        assertEquals("shadowEvery", e.field());
        assertTrue(e.getMessage().contains("needs shadowEvery >= 1, got 0"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> c.withSets(List.of("subsetSize=48")));
        assertEquals("subsetSize", e.field());
        assertTrue(e.getMessage().contains("k = 48, G_max = 48"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> c.withSets(List.of("subsetSize=8")));
        assertEquals("pruneSchedule", e.field());
        assertTrue(e.getMessage().contains("must end at subsetSize k = 8") && e.getMessage().contains("'48>24@5>12@7' ending at 12"),
                e.getMessage());
        assertEquals(8, c.withSets(List.of("subsetSize=8", "pruneSchedule=48>8@6")).subsetSize());
        // the other methods ignore both fields but a config stays valid when only the method changes
        assertEquals(0.5, TrainConfig.defaults().withSets(List.of("adaptiveThreshold=0.5")).adaptiveThreshold());
    }

    /** sampler: 'default' (the method's own) unless named; a config.json written before the key existed still reads. */
    @Test
    void theSamplerKeyDefaultsToTheMethodsOwnAndOldConfigsLackingItRead(@TempDir Path dir) throws Exception {
        assertEquals("default", TrainConfig.defaults().sampler());
        assertEquals(TrainConfig.METHOD_SAMPLER, TrainConfig.preset("pro-grpo-dance").sampler());
        assertEquals("my-sde", TrainConfig.defaults().withSets(List.of("sampler=my-sde")).sampler());
        String json = TrainConfig.preset("pro-grpo").toJson();
        assertTrue(json.contains("\"sampler\" : \"default\""), json);
        String old = json.replaceFirst(",\\s*\"sampler\" : \"default\"", "");
        assertFalse(old.contains("\"sampler\""), old);
        Path file = dir.resolve("config.json");
        Files.writeString(file, old);
        assertEquals(TrainConfig.preset("pro-grpo"), TrainConfig.fromJsonFile(file));
        assertEquals("my-sde", TrainConfig.defaults().withSets(List.of("sampler= my-sde")).sampler(), "--set trims its values");
        for (String bad : List.of("sampler=", "sampler=my sde", "sampler=my\tsde")) {
            ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.defaults().withSets(List.of(bad)));
            assertEquals("sampler", e.field(), bad);
            assertTrue(e.getMessage().startsWith("sampler must be 'default' (the method's own sampler) or a sampler's name"), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> TrainConfig.fromJson("{\"sampler\": \" my-sde\"}"));
        assertEquals("sampler", e.field());
        e = assertThrows(ConfigException.class, () -> TrainConfig.fromJson("{\"sampler\": null}"));
        assertEquals("sampler", e.field());
    }
}

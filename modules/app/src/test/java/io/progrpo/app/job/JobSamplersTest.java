package io.progrpo.app.job;

import io.progrpo.sampler.DdimSampler;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.SamplerSettings;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The config key {@code sampler}: {@code default} keeps each method's own samplers, and the built-in providers'
 * names select the same samplers (every step's time, std and stochasticity equal); the job's settings carry the
 * config's fields and the method's model kind.
 */
class JobSamplersTest {
    private static void assertSameSteps(Sampler a, Sampler b) {
        assertEquals(a.getClass(), b.getClass());
        assertEquals(a.steps(), b.steps());
        for (int i = 0; i < a.steps(); i++) {
            assertEquals(a.time(i), b.time(i), 0.0, "time " + i);
            assertEquals(a.isStochastic(i), b.isStochastic(i), "stochastic " + i);
            assertEquals(Double.doubleToLongBits(a.klStd(i)), Double.doubleToLongBits(b.klStd(i)), "klStd " + i);
        }
    }

    @Test
    void theDefaultIsTheMethodsSamplerAndTheBuiltInNamesSelectTheSame() {
        TrainConfig flow = TrainConfig.preset("pro-grpo+paper-flow");
        assertEquals(TrainConfig.METHOD_SAMPLER, flow.sampler());
        FlowSdeSampler train = assertInstanceOf(FlowSdeSampler.class, Jobs.trainSampler(flow));
        assertEquals(flow.noiseLevel(), train.noiseLevel());
        assertEquals(flow.samplerSteps(), train.steps());
        FlowSdeSampler eval = assertInstanceOf(FlowSdeSampler.class, Jobs.evalSampler(flow));
        assertEquals(0.0, eval.noiseLevel());
        assertEquals(flow.evalSteps(), eval.steps());
        TrainConfig named = flow.withSets(List.of("sampler=flow-sde"));
        assertSameSteps(train, Jobs.trainSampler(named));
        assertSameSteps(eval, Jobs.evalSampler(named));
        for (int i = 0; i < train.steps(); i++) {
            assertEquals(train.policyStd(i), ((FlowSdeSampler) Jobs.trainSampler(named)).policyStd(i), 0.0);
        }

        TrainConfig dance = TrainConfig.preset("dance-grpo").withSets(List.of("eta=0.8"));
        DdimSampler ddim = assertInstanceOf(DdimSampler.class, Jobs.trainSampler(dance));
        assertEquals(0.8, ddim.eta());
        TrainConfig danceNamed = dance.withSets(List.of("sampler=ddim"));
        assertSameSteps(ddim, Jobs.trainSampler(danceNamed));
        assertSameSteps(Jobs.evalSampler(dance), Jobs.evalSampler(danceNamed));
        for (int i = 0; i < ddim.steps(); i++) {
            assertEquals(ddim.sigma(i), ((DdimSampler) Jobs.trainSampler(danceNamed)).sigma(i), 0.0);
        }
    }

    @Test
    void theSettingsAreTheConfigsFields() {
        TrainConfig c = TrainConfig.preset("flow-grpo").withSets(List.of("samplerSteps=12", "evalSteps=7", "shift=2.5",
                "noiseLevel=0.5", "eta=0.3"));
        SamplerSettings s = Jobs.samplerSettings(c);
        assertEquals(new SamplerSettings(12, 7, 2.5, 0.5, 0.3, SamplerSettings.Prediction.VELOCITY, s.betas()), s);
        assertEquals(SamplerSettings.Prediction.EPSILON, Jobs.samplerSettings(TrainConfig.preset("pro-grpo-dance")).prediction());
    }

    @Test
    void theBuiltInSamplersFloat32LimitsApplyWhenNamed() {
        // the same noise level is refused with and without the name (the flow SDE's factor on x turns negative)
        TrainConfig tooNoisy = TrainConfig.preset("flow-grpo").withSets(List.of("noiseLevel=50"));
        ConfigException a = assertThrows(ConfigException.class, () -> JobCheck.samplers(tooNoisy));
        ConfigException b = assertThrows(ConfigException.class, () -> JobCheck.samplers(tooNoisy.withSets(List.of("sampler=flow-sde"))));
        assertEquals("noiseLevel", a.field());
        assertEquals(a.getMessage(), b.getMessage());
        ConfigException e = assertThrows(ConfigException.class, () -> JobCheck.samplers(TrainConfig.preset("flow-grpo")
                .withSets(List.of("sampler=no-such"))));
        assertEquals("sampler", e.field());
        assertTrue(e.getMessage().contains("expected default (the method's own sampler) or one of cps, dance-sde, ddim, flow-sde"), e.getMessage());
    }
}

package io.progrpo.world.latent;

import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneSplit;
import io.progrpo.world.scene.SceneTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The scene world of {@code io.progrpo.world.scene} as the latent world's {@link SceneSource}: the train prompts of
 * a {@link SceneSplit} (unseen colour-shape pairings and relation arrangements held out), the evaluation list
 * {@link SceneSplit#evalPrompts(int)} (held-out prompts of every category plus single_object ones), the word
 * tokenizer ({@value SceneTokenizer#SEQUENCE_LENGTH} ids, pad 0), the evaluation list taken round-robin over the
 * categories and the renderer (one or two objects or a counted
 * group on varied backgrounds). Pretraining draws training prompts category-balanced ({@link SceneSplit#drawTrain}).
 */
public final class SceneWorldScenes implements SceneSource {
    /** The split every run uses (the reward model's too), so all methods and seeds share the held-out prompts. */
    public static final long SPLIT_SEED = SceneSplit.DEFAULT_SEED;
    /** Held-out prompts per category in {@link #heldOutPrompts()}. */
    public static final int EVAL_PER_CATEGORY = 8;

    private final SceneSplit split;
    private final SceneRenderer renderer;
    private final int evalPerCategory;
    private final List<String> train;
    private final List<String> heldOut;

    /** 32 x 32 scenes, split {@value #SPLIT_SEED}, {@value #EVAL_PER_CATEGORY} evaluation prompts per category. */
    public SceneWorldScenes() {
        this(SceneRenderer.DEFAULT_SIZE, SPLIT_SEED, EVAL_PER_CATEGORY);
    }

    public SceneWorldScenes(int imageSize, long splitSeed, int evalPerCategory) {
        this.split = SceneSplit.of(splitSeed);
        this.renderer = new SceneRenderer(imageSize);
        this.evalPerCategory = evalPerCategory;
        this.train = split.train().stream().map(ScenePrompt::text).toList();
        this.heldOut = interleaved(split.evalPrompts(evalPerCategory));
    }

    /**
     * The prompts taken round-robin over their categories (first of each category, then second of each, ...), so that
     * the first n of them, as a run's {@code evalPrompts = n} takes, cover every category about equally.
     */
    static List<String> interleaved(List<ScenePrompt> prompts) {
        java.util.Map<io.progrpo.world.scene.Category, java.util.ArrayDeque<ScenePrompt>> by =
                new java.util.EnumMap<>(io.progrpo.world.scene.Category.class);
        for (ScenePrompt p : prompts) by.computeIfAbsent(p.category(), c -> new java.util.ArrayDeque<>()).add(p);
        List<String> out = new ArrayList<>(prompts.size());
        while (out.size() < prompts.size()) {
            for (java.util.ArrayDeque<ScenePrompt> q : by.values()) if (!q.isEmpty()) out.add(q.poll().text());
        }
        return List.copyOf(out);
    }

    public SceneSplit split() {
        return split;
    }

    @Override
    public String identity() {
        return "scene-world v1, split " + split.seed() + ", " + renderer.size() + "x" + renderer.size() + ", vocabulary "
                + SceneTokenizer.words();
    }

    @Override
    public List<String> trainPrompts() {
        return train;
    }

    @Override
    public List<String> heldOutPrompts() {
        return heldOut;
    }

    @Override
    public String drawTrainPrompt(Random rnd) {
        return split.drawTrain(rnd).text();
    }

    @Override
    public int imageSize() {
        return renderer.size();
    }

    @Override
    public int vocabularySize() {
        return SceneTokenizer.vocabularySize();
    }

    @Override
    public int sequenceLength() {
        return SceneTokenizer.SEQUENCE_LENGTH;
    }

    @Override
    public long[] encode(String prompt) {
        return SceneTokenizer.encode(prompt);
    }

    @Override
    public float[] render(List<String> prompts, long seed) {
        List<ScenePrompt> ps = new ArrayList<>(prompts.size());
        for (String p : prompts) ps.add(ScenePrompt.parse(p));
        return renderer.renderBatch(ps, seed);
    }
}

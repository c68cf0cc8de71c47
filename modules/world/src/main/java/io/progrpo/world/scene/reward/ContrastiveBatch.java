package io.progrpo.world.scene.reward;

import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.Scene;
import io.progrpo.world.scene.SceneLayout;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneRenderer;
import io.progrpo.world.scene.SceneSplit;
import io.progrpo.world.scene.SceneTruth;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One training batch of the reward model: B scenes of category-balanced training prompts
 * ({@link SceneSplit#drawTrain}), their captions, K hard-negative captions per scene (random one-attribute
 * {@link Neighbours} of its prompt: a wrong colour, shape, position, relation or count), optionally one hard-negative
 * image per caption (a rendering of a neighbour of its prompt), and the false-negative masks: a caption is left out of
 * an image's negatives when the scene satisfies it ({@link SceneTruth}, from the layout) or it is the image's own
 * caption again.
 *
 * @param images    [B, 3, S, S] floats
 * @param captions  B own captions, then B x K hard negatives (scene i's at B + i K ...)
 * @param negImages [B, 3, S, S] floats of caption i's hard-negative image, or empty
 */
record ContrastiveBatch(float[] images, List<String> captions, float[] negImages, int size, boolean[][] maskI2T, boolean[][] maskT2I) {

    static ContrastiveBatch draw(SceneSplit split, SceneRenderer r, RewardTrainOptions o, Random rnd) {
        int b = o.batchSize();
        int k = o.negativeCaptions();
        List<ScenePrompt> prompts = new ArrayList<>(b + b * k);
        List<Scene> scenes = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            ScenePrompt p = split.drawTrain(rnd);
            prompts.add(p);
            scenes.add(SceneLayout.sample(p, rnd));
        }
        for (int i = 0; i < b; i++) for (int j = 0; j < k; j++) prompts.add(Neighbours.random(prompts.get(i), rnd).prompt());
        List<Scene> negScenes = new ArrayList<>();
        if (o.negativeImages()) for (int i = 0; i < b; i++) negScenes.add(SceneLayout.sample(Neighbours.random(prompts.get(i), rnd).prompt(), rnd));
        int t = prompts.size();
        boolean[][] i2t = new boolean[b][t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                if (j == i) continue;
                i2t[i][j] = prompts.get(j).equals(prompts.get(i)) || SceneTruth.satisfies(scenes.get(i), prompts.get(j));
            }
        }
        int e = negScenes.size();
        boolean[][] t2i = new boolean[b][b + e];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b + e; j++) {
                if (j == i) continue;
                Scene s = j < b ? scenes.get(j) : negScenes.get(j - b);
                t2i[i][j] = SceneTruth.satisfies(s, prompts.get(i));
            }
        }
        int px = r.imageSize();
        float[] imgs = new float[b * px];
        for (int i = 0; i < b; i++) r.renderInto(scenes.get(i), imgs, i * px);
        float[] neg = new float[e * px];
        for (int i = 0; i < e; i++) r.renderInto(negScenes.get(i), neg, i * px);
        return new ContrastiveBatch(imgs, prompts.stream().map(ScenePrompt::text).toList(), neg, r.size(), i2t, t2i);
    }

    int count() {
        return maskI2T.length;
    }

    int negativeImageCount() {
        return negImages.length / (3 * size * size);
    }
}

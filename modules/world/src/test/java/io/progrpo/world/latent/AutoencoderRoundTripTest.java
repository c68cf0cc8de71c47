package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The reward model's round-trip augmentation through the latent autoencoder. */
@ExtendWith(SingleThreadedTorch.class)
class AutoencoderRoundTripTest {
    @Test
    void roundTripIsDecodeOfEncodePlusPerImageLatentNoise() {
        try (LatentAutoencoder ae = new LatentAutoencoder(Tiny.AE, 3); Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            ae.setLatentScaling(-0.1, 1.3);
            AutoencoderRoundTrip rt = new AutoencoderRoundTrip(ae, "tiny");
            int n = 3;
            int le = rt.latentElements();
            assertEquals(4 * 4 * 4, le);
            Random rnd = new Random(1);
            float[] px = new float[n * 3 * 16 * 16];
            for (int i = 0; i < px.length; i++) px[i] = rnd.nextFloat();
            float[] eps = new float[n * le];
            for (int i = 0; i < eps.length; i++) eps[i] = (float) rnd.nextGaussian();
            double[] sd = {0, 0.5, 2};
            Tensor images = Tensor.of(px, n, 3, 16, 16);
            float[] got = rt.apply(images, sd, eps).toFloatArray();
            float[] z = ae.encode(images).toFloatArray();
            for (int i = 0; i < n; i++) for (int k = 0; k < le; k++) z[i * le + k] += (float) (sd[i] * eps[i * le + k]);
            float[] want = ae.decode(Tensor.of(z, n, 4, 4, 4)).toFloatArray();
            assertArrayEquals(want, got, 1e-5f, "decode(encode(x) + sd eps)");
            for (float v : got) assertTrue(v >= 0 && v <= 1, "images stay in [0, 1]");
            var e = assertThrows(IllegalArgumentException.class, () -> rt.apply(images, new double[2], eps));
            assertTrue(e.getMessage().contains("needs 3 noise levels") && e.getMessage().contains("got 2"), e.getMessage());
            rt.close();
            assertTrue(ae.parameters().get(0).toFloatArray().length > 0, "a borrowed autoencoder stays open");
        }
    }

    @Test
    void sceneWorldDefaultNamesItsAutoencoderWithoutLoadingIt(@TempDir Path dir) throws Exception {
        SceneWorldScenes scenes = new SceneWorldScenes();
        try (AutoencoderRoundTrip rt = AutoencoderRoundTrip.sceneWorldDefault(dir, null)) {
            assertEquals(LatentModels.autoencoderIdentity(LatentConfig.defaults(scenes), scenes), rt.identity());
            assertTrue(rt.identity().startsWith("latent-vae-"), rt.identity());
            try (var files = Files.list(dir)) {
                assertEquals(0, files.count(), "nothing is loaded or trained until the first round trip");
            }
        }
        assertTrue(!LatentModels.autoencoderIdentity(LatentConfig.defaults(scenes), scenes)
                .equals(LatentModels.autoencoderIdentity(LatentConfig.quick(scenes), scenes)), "another recipe, another identity");
    }

    @Test
    void loadOrPretrainAutoencoderUsesTheWorldsCacheFile(@TempDir Path dir) {
        try (LatentModels m = LatentModels.loadOrPretrain(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, null);
             LatentAutoencoder ae = LatentModels.loadOrPretrainAutoencoder(dir, Tiny.CONFIG, Tiny.SCENES, Device.CPU, null);
             Scope s = Scope.open(); var ng = Autograd.noGrad()) {
            Tensor z = Tensor.zeros(1, 4, 4, 4);
            assertArrayEquals(m.autoencoder().decode(z).toFloatArray(), ae.decode(z).toFloatArray(), 0f, "the same weights, loaded");
            assertEquals(m.autoencoder().scalingFactor(), ae.scalingFactor());
        }
    }
}

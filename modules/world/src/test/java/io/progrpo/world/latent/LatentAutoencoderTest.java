package io.progrpo.world.latent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SingleThreadedTorch.class)
class LatentAutoencoderTest {

    @Test
    void mapsImagesToLatentsAtFactorFourAndBack() {
        for (AutoencoderConfig c : new AutoencoderConfig[] {AutoencoderConfig.DEFAULTS, Tiny.AE, new AutoencoderConfig(24, 3, 6)}) {
            try (LatentAutoencoder ae = new LatentAutoencoder(c, 1); Scope s = Scope.open(); Generator g = Generator.create(2);
                 var ng = Autograd.noGrad()) {
                int sz = c.imageSize();
                Tensor x = Tensor.rand(g, 2, 3, sz, sz);
                LatentAutoencoder.Posterior p = ae.posterior(x);
                assertArrayEquals(new long[] {2, c.latentChannels(), sz / 4, sz / 4}, p.mean().shape());
                assertArrayEquals(p.mean().shape(), p.logVar().shape());
                Tensor img = ae.decode(ae.encode(x));
                assertArrayEquals(x.shape(), img.shape());
                assertTrue(img.amin().item() >= 0 && img.amax().item() <= 1, "decoded images lie in [0, 1]");
                Tensor z = ae.encode(x);
                assertNotSame(z, ae.decoder().decode(z), "the decoder returns a new tensor");
            }
        }
    }

    @Test
    void klIsHalfOfMeanSquarePlusVarianceMinusOneMinusLogVarianceAveragedOverElements() {
        try (Scope s = Scope.open(); Generator g = Generator.create(5)) {
            Tensor mean = Tensor.randn(g, 3, 4, 2, 2);
            Tensor logVar = Tensor.randn(g, 3, 4, 2, 2).mul(2);
            double[] m = mean.toDoubleArray(), lv = logVar.toDoubleArray();
            double want = 0;
            for (int i = 0; i < m.length; i++) want += 0.5 * (m[i] * m[i] + Math.exp(lv[i]) - 1 - lv[i]);
            want /= m.length;
            double got = LatentAutoencoder.klDivergence(new LatentAutoencoder.Posterior(mean, logVar)).item();
            assertEquals(want, got, 1e-5 * Math.abs(want));
            Tensor zero = Tensor.zeros(2, 4, 2, 2);
            assertEquals(0.0, LatentAutoencoder.klDivergence(new LatentAutoencoder.Posterior(zero, zero)).item(), 0.0,
                    "N(0, 1) has no divergence from itself");
        }
    }

    @Test
    void sampleIsMeanPlusStdTimesTheGeneratorsNoise() {
        try (Scope s = Scope.open(); Generator g = Generator.create(5); Generator same = Generator.create(9); Generator again = Generator.create(9)) {
            Tensor mean = Tensor.randn(g, 2, 4, 2, 2);
            Tensor logVar = Tensor.randn(g, 2, 4, 2, 2);
            double[] eps = Tensor.randn(same, 2, 4, 2, 2).toDoubleArray();
            double[] got = LatentAutoencoder.sample(new LatentAutoencoder.Posterior(mean, logVar), again).toDoubleArray();
            double[] m = mean.toDoubleArray(), lv = logVar.toDoubleArray();
            for (int i = 0; i < m.length; i++) assertEquals(m[i] + Math.exp(lv[i] / 2) * eps[i], got[i], 1e-5);
        }
    }

    @Test
    void measuredScalingGivesZeroMeanUnitVarianceLatentsAndDecodeInvertsIt() {
        try (LatentAutoencoder ae = new LatentAutoencoder(Tiny.AE, 3); Scope s = Scope.open(); Generator g = Generator.create(2);
             var ng = Autograd.noGrad()) {
            Tensor x = Tensor.of(Tiny.SCENES.render(Tiny.SCENES.trainPrompts().subList(0, 16), 4), 16, 3, 16, 16);
            double[] raw = ae.posterior(x).mean().toDoubleArray();
            double m = 0;
            for (double v : raw) m += v / raw.length;
            double var = 0;
            for (double v : raw) var += (v - m) * (v - m) / raw.length;
            double[] f = ae.measureScaling(x);
            assertEquals(m, f[0], 1e-5);
            assertEquals(1 / Math.sqrt(var), f[1], 1e-3 * f[1]);
            assertEquals(f[0], ae.shiftFactor());
            assertEquals(f[1], ae.scalingFactor());
            double[] z = ae.encode(x).toDoubleArray();
            double zm = 0, zv = 0;
            for (double v : z) zm += v / z.length;
            for (double v : z) zv += (v - zm) * (v - zm) / z.length;
            assertEquals(0, zm, 1e-4, "scaled latents have mean 0");
            assertEquals(1, zv, 1e-3, "scaled latents have variance 1");
            for (int i = 0; i < z.length; i++) assertEquals((raw[i] - f[0]) * f[1], z[i], 1e-4, "(z - shift) * scale");
            Tensor zt = ae.encode(x);
            Tensor direct = ae.decodeRaw(ae.posterior(x).mean()).clamp(0, 1);
            assertArrayEquals(direct.toFloatArray(), ae.decode(zt).toFloatArray(), 1e-4f, "decode undoes the scaling");
        }
    }

    @Test
    void macFormulasMatchADirectCountOfTheConvolutionsRun() {
        for (AutoencoderConfig c : new AutoencoderConfig[] {AutoencoderConfig.DEFAULTS, Tiny.AE, new AutoencoderConfig(24, 3, 6)}) {
            try (LatentAutoencoder ae = new LatentAutoencoder(c, 1); Scope s = Scope.open(); Generator g = Generator.create(2);
                 var ng = Autograd.noGrad()) {
                int n = 3;
                Tensor x = Tensor.rand(g, n, 3, c.imageSize(), c.imageSize());
                MacCounter.start();
                Tensor z = ae.posterior(x).mean();
                assertEquals(n * LatentAutoencoder.encoderMacsPerImage(c), MacCounter.stop(), "encoder of " + c);
                MacCounter.start();
                ae.decodeRaw(z);
                assertEquals(n * LatentAutoencoder.decoderMacsPerImage(c), MacCounter.stop(), "decoder of " + c);
            }
        }
        assertEquals(24_182_784L, LatentAutoencoder.decoderMacsPerImage(AutoencoderConfig.DEFAULTS), "the documented default");
    }

    @Test
    void badShapesRaiseClearExceptions() {
        try (LatentAutoencoder ae = new LatentAutoencoder(Tiny.AE, 1); Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> ae.posterior(Tensor.zeros(2, 3, 32, 32)));
            assertTrue(e.getMessage().contains("images must be float [N, 3, 16, 16]") && e.getMessage().contains("[2, 3, 32, 32]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ae.decode(Tensor.zeros(2, 3, 4, 4)));
            assertTrue(e.getMessage().contains("latents must be float [N, 4, 4, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ae.setLatentScaling(0, 0));
            assertTrue(e.getMessage().contains("scale finite and > 0"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new AutoencoderConfig(30, 4, 32));
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
    }
}

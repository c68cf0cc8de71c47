/**
 * Training a TorchScript generator with GRPO: {@link io.progrpo.app.torchscript.TorchScriptDecoder} (latents to
 * images through an exported decoder), {@link io.progrpo.app.torchscript.LatentPromptWorld} (a prompt world with
 * the generator's latent shape) and {@link io.progrpo.app.torchscript.TorchScriptJob}, which assembles a
 * {@link io.progrpo.trainer.GrpoTrainer} from exported policy, decoder and reward model files
 * ({@link io.progrpo.app.torchscript.TorchScriptModels}). The export recipe is in docs/torchscript.md.
 */
package io.progrpo.app.torchscript;

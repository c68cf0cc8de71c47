/**
 * The {@code progrpo} command line ({@link io.progrpo.app.cli.Main}): {@code train}, {@code eval},
 * {@code report} and {@code presets}. Parsing and configuration resolution live here; the work itself is behind
 * {@link io.progrpo.app.cli.Commands}, implemented by the trainer.
 */
package io.progrpo.app.cli;

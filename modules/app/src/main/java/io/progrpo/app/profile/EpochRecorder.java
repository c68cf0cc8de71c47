package io.progrpo.app.profile;

import io.progrpo.tensor.jfr.TensorEvents;
import io.progrpo.trainer.RunListener;
import jdk.jfr.Recording;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@link RunListener} that records the first epoch of a run with progrpo.jfc's events (storage stack traces off, so
 * the recorded epoch costs about what the others do) into {@code jfr}, and passes every call on to {@code delegate}.
 * The demo records one epoch of flow-grpo and of pro-grpo this way for its memory timelines.
 */
public final class EpochRecorder implements RunListener {
    private final Path jfr;
    private Recording recording;
    private boolean done;

    /** Records into {@code jfr}; compose with other listeners by {@link RunListener#all}. */
    public EpochRecorder(Path jfr) {
        this.jfr = jfr;
    }

    @Override
    public void runStarted(String method, int firstEpoch, int epochs) {
        if (done || recording != null) return;
        recording = new Recording(TensorEvents.configuration());
        recording.enable("io.progrpo.StorageAllocated").withoutStackTrace();
        recording.setName("progrpo epoch " + firstEpoch + " of " + method);
        recording.start();
    }

    @Override
    public void epochDone(int epoch, Map<String, Object> metrics) {
        if (epoch >= 0) stop(); // epoch -1 is the evaluation before training
    }

    @Override
    public void runFinished() {
        stop();
    }

    /** Stops and writes the recording (once); the file is there after the first epoch. */
    private void stop() {
        if (recording == null) return;
        try (Recording r = recording) {
            r.stop();
            Files.createDirectories(jfr.toAbsolutePath().getParent());
            r.dump(jfr);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the recording " + jfr, e);
        } finally {
            recording = null;
            done = true;
        }
    }

    /** Where the recording goes. */
    public Path file() {
        return jfr;
    }
}

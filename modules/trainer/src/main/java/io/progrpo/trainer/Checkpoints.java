package io.progrpo.trainer;

import io.progrpo.tensor.files.Manifest;
import io.progrpo.trainer.internal.DurableFiles;
import io.progrpo.trainer.internal.FaultPoints;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The checkpoint slots of a run directory and the protocol that moves a checkpoint through them:
 * <pre>
 *   1. write policy.pt, optimizer.bin, state.json, config.json into checkpoint.tmp/, each forced to the device
 *   2. write checkpoint.tmp/manifest.sha256 (their SHA-256, sha256sum's format) last: from here the new one is whole
 *   3. rename checkpoint/ to checkpoint.old/, then checkpoint.tmp/ to checkpoint/
 *   4. retire checkpoint.old/ (renamed to checkpoint.trash/, then deleted)
 * </pre>
 * A crash between any two steps leaves at least one whole checkpoint (a slot whose manifest matches its files), and
 * {@link #newest()} finds the newest one in whichever slot it is; {@link #recover()} then finishes the interrupted
 * swap. A slot without a manifest is an unfinished write and is never used (except {@code checkpoint/} and
 * {@code checkpoint.old/} of an earlier progrpo, which wrote no manifest: used unverified, with a warning). A slot whose
 * manifest does not match its files is damage, not a crash: it stops the resume with the file, both digests and the
 * ways out.
 */
final class Checkpoints {
    static final String CURRENT = "checkpoint";
    static final String TMP = "checkpoint.tmp";
    static final String OLD = "checkpoint.old";
    static final String TRASH = "checkpoint.trash";
    static final String MANIFEST = "manifest.sha256";
    /** The files of a checkpoint, as its manifest lists them. */
    static final List<String> FILES = List.of("config.json", "optimizer.bin", "policy.pt", "state.json");
    /** The files a checkpoint has when the run has them (the EMA of the parameters), listed in its manifest then. */
    static final List<String> OPTIONAL_FILES = List.of("ema.pt");

    /** A whole checkpoint: its directory, its validated state and its identity (the SHA-256 of its manifest). */
    record Found(Path dir, CheckpointState state, String id, boolean verified) {
        Found at(Path d) {
            return new Found(d, state, id, verified);
        }
    }

    private record Slot(Path dir, Found found, String damage) {}

    /** Writes a checkpoint's files into the directory it is given. */
    @FunctionalInterface
    interface Contents {
        void write(Path dir) throws IOException;
    }

    private final Path out;
    private final Consumer<String> log;

    Checkpoints(Path out, Consumer<String> log) {
        this.out = out;
        this.log = log;
    }

    Path current() {
        return out.resolve(CURRENT);
    }

    /** Steps 1 to 4 of the protocol. */
    void save(Contents contents) throws IOException {
        Path tmp = out.resolve(TMP);
        DurableFiles.retire(tmp, out.resolve(TRASH));  // an unfinished write of a crashed run
        Files.createDirectories(tmp);
        FaultPoints.reach("checkpoint.tmp-created");
        contents.write(tmp);
        List<String> files = new java.util.ArrayList<>(FILES);
        for (String f : OPTIONAL_FILES) if (Files.exists(tmp.resolve(f))) files.add(f);
        Manifest.write(tmp.resolve(MANIFEST), files);
        DurableFiles.syncDirectory(tmp);
        FaultPoints.reach("checkpoint.manifest-written");
        promote(tmp);
        FaultPoints.reach("checkpoint.saved");
    }

    /** Steps 3 and 4: the whole checkpoint in {@code tmp} becomes the current one. */
    private void promote(Path tmp) throws IOException {
        Path cur = current();
        Path old = out.resolve(OLD);
        Path trash = out.resolve(TRASH);
        DurableFiles.retire(old, trash);
        if (Files.isDirectory(cur)) {
            Files.move(cur, old, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.syncDirectory(out);
            FaultPoints.reach("checkpoint.moved-to-old");
        }
        Files.move(tmp, cur, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.syncDirectory(out);
        FaultPoints.reach("checkpoint.moved-into-place");
        DurableFiles.retire(old, trash);
    }

    /**
     * The newest whole checkpoint in any slot (ties: checkpoint/, then .tmp, then .old), or null when there is none.
     * Reads only.
     *
     * @throws IOException when a slot is damaged (naming the file, both digests and the ways out), or a verified
     *                     state.json holds an invalid value
     */
    Found newest() throws IOException {
        List<Slot> slots = List.of(inspect(out.resolve(CURRENT), true), inspect(out.resolve(TMP), false), inspect(out.resolve(OLD), true));
        Found best = null;
        for (Slot s : slots) {
            if (s.found() != null && (best == null || s.found().state().epoch() > best.state().epoch())) best = s.found();
        }
        for (Slot s : slots) {
            if (s.damage() != null) throw new IOException(s.damage() + ". " + waysOut(s.dir(), slots));
        }
        if (best != null && !best.verified()) {
            log.accept("warning: the checkpoint in " + best.dir() + " has no " + MANIFEST + " (written by an earlier progrpo): its files "
                    + "cannot be verified");
        }
        return best;
    }

    /**
     * For a resume: {@link #newest()}, moved into checkpoint/ when a swap was interrupted (the older slots retired),
     * or null when there is none.
     */
    Found recover() throws IOException {
        Found f = newest();
        if (f == null) return null;
        Path cur = current();
        Path trash = out.resolve(TRASH);
        String name = f.dir().getFileName().toString();
        if (name.equals(TMP)) {
            log.accept("completing an interrupted checkpoint swap: " + f.dir() + " (epoch " + f.state().epoch() + ") is the newest whole checkpoint");
            promote(f.dir());
        } else if (name.equals(OLD)) {
            log.accept("completing an interrupted checkpoint swap: " + f.dir() + " (epoch " + f.state().epoch() + ") is the newest whole checkpoint");
            DurableFiles.retire(out.resolve(TMP), trash);
            DurableFiles.retire(cur, trash);
            Files.move(f.dir(), cur, StandardCopyOption.ATOMIC_MOVE);
            DurableFiles.syncDirectory(out);
        } else {
            DurableFiles.retire(out.resolve(TMP), trash);
            DurableFiles.retire(out.resolve(OLD), trash);
        }
        DurableFiles.deleteTree(trash);
        return f.at(cur);
    }

    /**
     * Before a fresh run. A whole or damaged checkpoint in any slot stops it ({@code replace} false: the message says
     * how to continue or clear it) or is removed with a log line ({@code replace} true); unfinished writes are removed.
     */
    void prepareFresh(boolean replace) throws IOException {
        Found f;
        try {
            f = newest();
        } catch (IOException damaged) {
            if (!replace) {
                throw new IOException("run directory " + out + " holds a checkpoint that a fresh run would replace, and it is damaged: "
                        + damaged.getMessage());
            }
            log.accept("replacing the earlier run's damaged checkpoint in " + out + " (" + damaged.getMessage().split("\\. Ways out")[0] + ")");
            f = null;
        }
        if (f != null && !replace) {
            throw new IOException("run directory " + out + " already holds a checkpoint (epoch " + f.state().epoch() + ", in " + f.dir()
                    + "): continue it with --resume, or remove " + out.resolve(CURRENT) + "* (or choose another --out) to start afresh");
        }
        if (f != null) log.accept("replacing the earlier run's checkpoint (epoch " + f.state().epoch() + ") in " + f.dir());
        Path trash = out.resolve(TRASH);
        for (String s : List.of(TMP, OLD, CURRENT)) DurableFiles.retire(out.resolve(s), trash);
    }

    private Slot inspect(Path dir, boolean legacy) throws IOException {
        if (!Files.isDirectory(dir)) return new Slot(dir, null, null);
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.exists(manifest)) {
            boolean whole = legacy && Files.isRegularFile(dir.resolve("state.json")) && Files.isRegularFile(dir.resolve("policy.pt"))
                    && Files.isRegularFile(dir.resolve("optimizer.bin"));
            if (!whole) return new Slot(dir, null, null);  // an unfinished write
            String text = Files.readString(dir.resolve("state.json"), StandardCharsets.UTF_8);
            return new Slot(dir, new Found(dir, CheckpointState.parse(dir.resolve("state.json"), text),
                    "unverified:" + Manifest.sha256(text.getBytes(StandardCharsets.UTF_8)), false), null);
        }
        Map<String, String> entries;
        try {
            entries = Manifest.read(manifest);
        } catch (IOException e) {
            return new Slot(dir, null, "checkpoint manifest " + e.getMessage());
        }
        java.util.Set<String> extra = new java.util.HashSet<>(entries.keySet());
        extra.removeAll(FILES);
        extra.removeAll(OPTIONAL_FILES);
        if (!entries.keySet().containsAll(FILES) || !extra.isEmpty()) {
            return new Slot(dir, null, "checkpoint manifest " + manifest + " must list " + FILES + " (and optionally " + OPTIONAL_FILES
                    + "), lists " + entries.keySet());
        }
        Manifest.Mismatch m = Manifest.verify(dir, entries);
        if (m != null) {
            return new Slot(dir, null, "checkpoint file " + m.describe() + " (the file, or the manifest, changed after the checkpoint was written)");
        }
        Path state = dir.resolve("state.json");
        String id = Manifest.sha256(Files.readAllBytes(manifest));
        return new Slot(dir, new Found(dir, CheckpointState.parse(state, Files.readString(state, StandardCharsets.UTF_8)), id, true), null);
    }

    private String waysOut(Path damaged, List<Slot> slots) {
        List<String> ways = new ArrayList<>();
        ways.add("restore the file from a copy");
        for (Slot s : slots) {
            if (s.found() != null) {
                ways.add("resume from the whole checkpoint in " + s.dir() + " (epoch " + s.found().state().epoch() + ") by removing " + damaged);
            }
        }
        ways.add("if the files were edited on purpose, record them anew with `cd " + damaged + " && sha256sum " + String.join(" ", FILES)
                + " > " + MANIFEST + "`");
        ways.add("or start afresh in another --out");
        return "Ways out: " + String.join("; ", ways);
    }
}

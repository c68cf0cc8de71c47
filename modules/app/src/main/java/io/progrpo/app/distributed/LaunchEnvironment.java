package io.progrpo.app.distributed;

import io.progrpo.app.job.JobCheck;
import io.progrpo.tensor.distributed.Backend;
import io.progrpo.tensor.distributed.Rendezvous;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The environment variables a launcher sets (torchrun, srun, {@code scripts/launch-local}) and progrpo's own
 * ({@code PROGRPO_DIST_TIMEOUT}, {@code PROGRPO_GROUPS_PER_STEP}, {@code PROGRPO_DIST_BACKEND}), checked before a
 * process group or a job exists. Each bad value is a {@link ConfigException} whose field is the variable's name, so
 * the CLI reports it as {@code config error (PROGRPO_GROUPS_PER_STEP): ...} with exit status 2 on every rank.
 * The rules are those of {@link Rendezvous#fromEnvironment} and {@link DistributedGrpo.Options#fromEnvironment},
 * read strictly: integers in ASCII digits within range, timeouts as plain decimal seconds.
 */
public final class LaunchEnvironment {
    private LaunchEnvironment() {}

    /** c10d adds the timeout to a nanosecond clock; a year is far beyond any useful bound and far below overflow. */
    static final double MAX_TIMEOUT_SECONDS = 365 * 24 * 3600.0;
    static final double MIN_TIMEOUT_SECONDS = 0.001;

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    /**
     * @param torchScript true for {@code train-torchscript}, which runs in one process only
     */
    public static void check(TrainConfig c, Map<String, String> env, boolean torchScript) {
        if (!DistributedGrpo.requested(env)) return;
        int world = integer(env, "WORLD_SIZE", 1, 1, Integer.MAX_VALUE, "the number of ranks");
        if (torchScript) {
            if (world != 1) {
                throw new ConfigException("WORLD_SIZE", "train-torchscript runs in one process (TorchScript jobs do not "
                        + "train data-parallel), expected WORLD_SIZE unset or 1, got " + env.get("WORLD_SIZE").strip());
            }
            return;
        }
        if (world > 1 && blank(env.get("RANK"))) {
            throw new ConfigException("RANK", "RANK must be set when WORLD_SIZE = " + world + " > 1, expected 0 .. "
                    + (world - 1) + ", got nothing");
        }
        int rank = integer(env, "RANK", 0, 0, world - 1, "this process's rank, below WORLD_SIZE = " + world);
        int local = integer(env, "LOCAL_RANK", rank, 0, rank, "this process's rank on its machine, at most RANK = " + rank);
        String addr = env.get("MASTER_ADDR");
        if (addr != null && (addr.isBlank() || !addr.strip().chars().allMatch(ch -> ch > ' ' && ch < 0x7f))) {
            throw new ConfigException("MASTER_ADDR", "MASTER_ADDR must be a host name or address (printable ASCII, no "
                    + "spaces), got '" + addr + "'");
        }
        integer(env, "MASTER_PORT", Rendezvous.DEFAULT_PORT, 1, 65535, "a TCP port");
        String t = env.get("PROGRPO_DIST_TIMEOUT");
        if (!blank(t)) {
            String v = t.strip();
            double seconds = DECIMAL.matcher(v).matches() ? Double.parseDouble(v) : Double.NaN;
            if (!(seconds >= MIN_TIMEOUT_SECONDS && seconds <= MAX_TIMEOUT_SECONDS)) {
                throw new ConfigException("PROGRPO_DIST_TIMEOUT", "PROGRPO_DIST_TIMEOUT must be a number of seconds in ["
                        + MIN_TIMEOUT_SECONDS + ", " + (long) MAX_TIMEOUT_SECONDS + "] (a year), got '" + t + "'");
            }
        }
        int perStep = integer(env, "PROGRPO_GROUPS_PER_STEP", 0, 0, Integer.MAX_VALUE,
                "prompt groups per optimizer step over all ranks, 0 = groupsPerEpoch");
        int k = perStep == 0 ? c.groupsPerEpoch() : perStep;
        String kField = perStep == 0 ? "groupsPerEpoch" : "PROGRPO_GROUPS_PER_STEP";
        if (k % world != 0) {
            throw new ConfigException(kField, "groups per optimizer step (" + (perStep == 0 ? "groupsPerEpoch, as "
                    + "PROGRPO_GROUPS_PER_STEP is unset" : "PROGRPO_GROUPS_PER_STEP") + ") must be a multiple of WORLD_SIZE = "
                    + world + " (a prompt group never splits across ranks), got " + k);
        }
        if (c.groupsPerEpoch() % k != 0) {
            throw new ConfigException("PROGRPO_GROUPS_PER_STEP", "PROGRPO_GROUPS_PER_STEP must divide groupsPerEpoch = "
                    + c.groupsPerEpoch() + " (an epoch is whole optimizer steps), got " + k);
        }
        String b = env.get("PROGRPO_DIST_BACKEND");
        if (!blank(b)) {
            Backend backend;
            try {
                backend = Backend.byName(b);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("PROGRPO_DIST_BACKEND", "PROGRPO_DIST_BACKEND must be gloo or nccl, got '" + b + "'");
            }
            if (backend == Backend.NCCL && !c.device().startsWith("cuda")) {
                throw new ConfigException("PROGRPO_DIST_BACKEND", "PROGRPO_DIST_BACKEND = nccl carries CUDA tensors only, "
                        + "but device is " + c.device() + "; expected gloo (or unset) for a CPU job");
            }
        }
        if (c.device().equals("cuda") && world > 1) JobCheck.device("cuda:" + local);
        // the run's own parsers, as a last word: they accept everything the checks above accept
        try {
            DistributedGrpo.shape(c, world, DistributedGrpo.Options.fromEnvironment(env));
            Rendezvous.fromEnvironment(env);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("environment", "the launch environment is not usable: " + e.getMessage(), e);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static int integer(Map<String, String> env, String name, int dflt, int min, int max, String what) {
        String v = env.get(name);
        if (blank(v)) return dflt;
        String s = v.strip();
        long n;
        if (!INTEGER.matcher(s).matches()) {
            n = Long.MIN_VALUE;
        } else {
            try {
                n = Long.parseLong(s);
            } catch (NumberFormatException e) {
                n = Long.MIN_VALUE;
            }
        }
        if (n < min || n > max) {
            throw new ConfigException(name, String.format(Locale.ROOT, "%s must be an integer in [%d, %d] (%s), got '%s'",
                    name, min, max, what, v));
        }
        return (int) n;
    }
}

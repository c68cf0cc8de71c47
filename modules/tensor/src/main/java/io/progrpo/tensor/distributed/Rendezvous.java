package io.progrpo.tensor.distributed;

import java.util.Map;

/**
 * Where and as whom a process joins a job: the store address (rank 0 hosts it), this process's rank, the number of
 * ranks, and its rank on this machine (which picks the GPU).
 */
public record Rendezvous(String masterAddr, int masterPort, int rank, int worldSize, int localRank) {
    /** torch.distributed's default port. */
    public static final int DEFAULT_PORT = 29500;

    public Rendezvous {
        if (masterAddr == null || masterAddr.isBlank()) throw new IllegalArgumentException("MASTER_ADDR must not be empty, got '" + masterAddr + "'");
        if (masterPort < 1 || masterPort > 65535) throw new IllegalArgumentException("MASTER_PORT must be in [1, 65535], got " + masterPort);
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("RANK must be in [0, WORLD_SIZE=" + worldSize + "), got " + rank);
        if (localRank < 0 || localRank > rank) throw new IllegalArgumentException("LOCAL_RANK must be in [0, RANK=" + rank + "], got " + localRank);
    }

    /** A job on this machine over 127.0.0.1. */
    public static Rendezvous loopback(int port, int rank, int worldSize) {
        return new Rendezvous("127.0.0.1", port, rank, worldSize, rank);
    }

    /** The one process of a job without peers. */
    public static Rendezvous single() {
        return loopback(DEFAULT_PORT, 0, 1);
    }

    /** From the process environment; see {@link #fromEnvironment(Map)}. */
    public static Rendezvous fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * From RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, as torchrun and cluster launchers set them.
     * Without WORLD_SIZE the job is a single process; LOCAL_RANK defaults to RANK, MASTER_ADDR to 127.0.0.1 and
     * MASTER_PORT to 29500.
     */
    public static Rendezvous fromEnvironment(Map<String, String> env) {
        int world = intVar(env, "WORLD_SIZE", 1);
        int rank = intVar(env, "RANK", world == 1 ? 0 : -1);
        if (rank < 0 && !env.containsKey("RANK")) throw new IllegalArgumentException("RANK must be set when WORLD_SIZE=" + world + " > 1");
        int local = intVar(env, "LOCAL_RANK", rank);
        String addr = env.getOrDefault("MASTER_ADDR", "127.0.0.1");
        int port = intVar(env, "MASTER_PORT", DEFAULT_PORT);
        return new Rendezvous(addr, port, rank, world, local);
    }

    /** True when the environment describes a job of more than one process. */
    public static boolean inEnvironment(Map<String, String> env) {
        return env.containsKey("WORLD_SIZE") && intVar(env, "WORLD_SIZE", 1) > 1;
    }

    private static int intVar(Map<String, String> env, String name, int dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return dflt;
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'", e);
        }
    }
}

package io.progrpo.trainer.internal;

/**
 * Named points of the checkpoint, metrics and lock protocols where a test can make the JVM die as {@code kill -9}
 * would: {@code -Dprogrpo.fault.haltAt=NAME:COUNT} halts ({@link Runtime#halt}, no shutdown hooks, no flushing) the
 * COUNT-th time this process reaches point NAME (COUNT defaults to 1). The property is read once; unset, {@link #reach}
 * is a test of a final field. The points are listed in docs/reliability.md.
 */
public final class FaultPoints {
    /** The exit status of a halt at a fault point. */
    public static final int HALT_STATUS = 86;

    private static final String NAME;
    private static final int COUNT;
    private static int seen;

    static {
        String spec = System.getProperty("progrpo.fault.haltAt");
        String name = null;
        int count = 0;
        if (spec != null && !spec.isBlank()) {
            int colon = spec.lastIndexOf(':');
            name = colon < 0 ? spec.strip() : spec.substring(0, colon).strip();
            try {
                count = colon < 0 ? 1 : Integer.parseInt(spec.substring(colon + 1).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("progrpo.fault.haltAt must be NAME or NAME:COUNT with COUNT >= 1, got '" + spec + "'", e);
            }
            if (count < 1 || name.isEmpty()) {
                throw new IllegalArgumentException("progrpo.fault.haltAt must be NAME or NAME:COUNT with COUNT >= 1, got '" + spec + "'");
            }
        }
        NAME = name;
        COUNT = count;
    }

    private FaultPoints() {}

    /** Marks that the protocol reached point {@code name}; halts the JVM if this is the configured occurrence. */
    public static void reach(String name) {
        if (NAME != null && NAME.equals(name)) hit(name, null);
    }

    /**
     * As {@link #reach(String)}, running {@code beforeHalt} first when it halts: a point inside a write (the write's
     * first half) that a real crash or a full disk could leave behind.
     */
    public static void reach(String name, Runnable beforeHalt) {
        if (NAME != null && NAME.equals(name)) hit(name, beforeHalt);
    }

    private static synchronized void hit(String name, Runnable beforeHalt) {
        if (++seen == COUNT) {
            if (beforeHalt != null) beforeHalt.run();
            System.out.println("fault point " + name + ":" + COUNT + " reached, halting");
            System.out.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}

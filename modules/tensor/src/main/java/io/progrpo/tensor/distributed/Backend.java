package io.progrpo.tensor.distributed;

import io.progrpo.tensor.Device;

/** The c10d backend that carries the collectives. */
public enum Backend {
    /** Gloo: CPU tensors, TCP between processes. */
    GLOO(0),
    /** NCCL: CUDA tensors (needs a CUDA build of libtorch and of the shim). */
    NCCL(1);

    private final int code;

    Backend(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    /** NCCL for a CUDA device, Gloo otherwise (the pairing torch.distributed recommends). */
    public static Backend forDevice(Device device) {
        return device.isCuda() ? NCCL : GLOO;
    }

    /** "gloo" or "nccl" (case-insensitive). */
    public static Backend byName(String name) {
        return switch (name.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "gloo" -> GLOO;
            case "nccl" -> NCCL;
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (expected gloo or nccl)");
        };
    }
}

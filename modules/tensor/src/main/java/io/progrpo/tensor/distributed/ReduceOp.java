package io.progrpo.tensor.distributed;

/** How {@link ProcessGroup#allReduce} combines the ranks' tensors. */
public enum ReduceOp {
    SUM(0),
    /** The sum divided by the world size. */
    AVG(1),
    MIN(2),
    MAX(3);

    private final int code;

    ReduceOp(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }
}

package io.progrpo.tensor;

/** Element types, with the shim's codes (native-headers/progrpo_torch.h, PT_DTYPE_*). */
public enum DType {
    FLOAT32(0, 4, true),
    FLOAT64(1, 8, true),
    FLOAT16(2, 2, true),
    BFLOAT16(3, 2, true),
    INT64(4, 8, false),
    INT32(5, 4, false),
    BOOL(6, 1, false),
    UINT8(7, 1, false);

    private static final DType[] BY_CODE = values();
    private final int code;
    private final int byteSize;
    private final boolean floatingPoint;

    DType(int code, int byteSize, boolean floatingPoint) {
        this.code = code;
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    public int code() {
        return code;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    static DType ofCode(long code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalStateException("libtorch returned a dtype progrpo does not support (code " + code + ")");
        }
        return BY_CODE[(int) code];
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

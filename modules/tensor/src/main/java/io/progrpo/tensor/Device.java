package io.progrpo.tensor;

/** A device: {@code cpu} or {@code cuda:N}. */
public record Device(Type type, int index) {
    public enum Type { CPU, CUDA }

    public static final Device CPU = new Device(Type.CPU, 0);

    public Device {
        if (type == null) throw new IllegalArgumentException("device type must not be null");
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        if (type == Type.CPU && index != 0) throw new IllegalArgumentException("cpu has only index 0, got " + index);
    }

    public static Device cuda(int index) {
        return new Device(Type.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public static Device parse(String s) {
        String t = s.strip().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) return CPU;
        if (t.equals("cuda")) return cuda(0);
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("expected a device 'cpu', 'cuda' or 'cuda:N', got '" + s + "'");
    }

    public boolean isCuda() {
        return type == Type.CUDA;
    }

    int typeCode() {
        return type == Type.CPU ? 0 : 1;
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "cuda:" + index;
    }
}

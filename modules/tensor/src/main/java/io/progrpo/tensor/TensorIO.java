package io.progrpo.tensor;

import io.progrpo.tensor.internal.ffi.progrpo_torch_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named tensors (state dicts) on disk in torch's pickle format: Python's {@code torch.load(path)} returns a
 * {@code dict[str, Tensor]}, and files written by Python's {@code torch.save} of such a dict load here. Writes are
 * atomic (a temporary file in the same directory, then a rename), so a crash never leaves a half-written file.
 */
public final class TensorIO {
    private TensorIO() {}

    public static void save(Path path, Map<String, Tensor> tensors) throws IOException {
        Native.ensureLoaded();
        io.progrpo.tensor.internal.AtomicFiles.write(path, tmp -> {
            try (Arena a = Arena.ofConfined()) {
                int n = tensors.size();
                MemorySegment names = a.allocate(ValueLayout.ADDRESS, Math.max(1, n));
                MemorySegment handles = a.allocate(ValueLayout.ADDRESS, Math.max(1, n));
                int i = 0;
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    names.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(e.getKey()));
                    handles.setAtIndex(ValueLayout.ADDRESS, i++, e.getValue().handle());
                }
                int st = progrpo_torch_h.pt_save_named(a.allocateFrom(tmp.toString()), names, handles, n);
                if (st != 0) throw new IOException("saving " + n + " tensors to " + path + " failed: " + Native.lastError());
            }
        });
    }

    /**
     * Loads every named tensor of {@code path}, in file order; the caller owns them (or the current scope does).
     * A missing or corrupt file throws {@link IOException} naming the file.
     */
    public static Map<String, Tensor> load(Path path) throws IOException {
        Native.ensureLoaded();
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no such tensor file");
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment list = a.allocate(ValueLayout.ADDRESS);
            if (progrpo_torch_h.pt_load_named(a.allocateFrom(path.toAbsolutePath().toString()), list) != 0) {
                throw new IOException("cannot read tensors from " + path + " (corrupt, or not a torch-saved dict of tensors): " + Native.lastError());
            }
            MemorySegment l = list.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment n = a.allocate(ValueLayout.JAVA_INT);
                Native.check(progrpo_torch_h.pt_named_size(l, n), "named_size");
                MemorySegment name = a.allocate(ValueLayout.ADDRESS);
                MemorySegment t = a.allocate(ValueLayout.ADDRESS);
                for (int i = 0; i < n.get(ValueLayout.JAVA_INT, 0); i++) {
                    Native.check(progrpo_torch_h.pt_named_get(l, i, name, t), "named_get");
                    String key = name.get(ValueLayout.ADDRESS, 0).reinterpret(Integer.MAX_VALUE).getString(0);
                    out.put(key, Tensor.adopt(t.get(ValueLayout.ADDRESS, 0)));
                }
            } finally {
                progrpo_torch_h.pt_named_free(l);
            }
        }
        return out;
    }
}

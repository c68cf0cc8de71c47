package io.progrpo.tensor.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A Java tensor took a reference to a storage the ledger did not know: native memory in use from now on. Recorded for
 * storages of at least {@link TensorEvents#minBytes()} ({@code -Dprogrpo.jfr.minBytes}, default 65536), so the many
 * small tensors of an op-heavy loop cost one branch each.
 */
@Name("io.progrpo.StorageAllocated")
@Label("Tensor storage allocated")
@Category({"progrpo", "Memory"})
@Description("A tensor storage the ledger did not hold before: its bytes, dtype, device and shape, the ledger's bytes after")
@StackTrace(true)
@Enabled(false)
public final class StorageAllocated extends Event {
    @Label("Bytes") @DataAmount public long bytes;
    @Label("Device") public String device;
    @Label("Dtype") public String dtype;
    @Label("Shape") public String shape;
    @Label("Ledger bytes after") @DataAmount public long ledgerBytes;
    @Label("Phase") public String phase;
}

package io.progrpo.tensor.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The last Java tensor of a storage was closed (or freed by the leak safety net): its bytes leave the ledger. */
@Name("io.progrpo.StorageFreed")
@Label("Tensor storage freed")
@Category({"progrpo", "Memory"})
@Description("A tensor storage no Java tensor references any more: its bytes and the ledger's bytes after")
@StackTrace(false)
@Enabled(false)
public final class StorageFreed extends Event {
    @Label("Bytes") @DataAmount public long bytes;
    @Label("Device") public String device;
    @Label("Ledger bytes after") @DataAmount public long ledgerBytes;
    @Label("By the leak safety net") public boolean leak;
    @Label("Phase") public String phase;
}

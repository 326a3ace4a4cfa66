package dev.bourne.testing.tpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@WithSwtpm
class Tpm2ToolsInteropTest {

    @Test
    void tpm2Getcap_afterJavaDisconnects_readsManufacturer(Swtpm swtpm) {
        swtpm.tpm().GetRandom(8); // Java holds the one data-port connection here
        swtpm.disconnect();

        Exec.Result getcap = Exec.run(List.of(RequiredTool.TPM2_GETCAP.path().toString(), "properties-fixed"),
                Map.of("TPM2TOOLS_TCTI", swtpm.tcti()), Duration.ofSeconds(20)).requireSuccess();

        assertTrue(getcap.stdout().contains("TPM2_PT_MANUFACTURER"), getcap.stdout());
        assertTrue(getcap.stdout().contains("\"IBM\""), getcap.stdout());
        // Java gets the port back once tpm2-tools has left.
        assertEquals(8, swtpm.tpm().GetRandom(8).length);
    }
}

package dev.bourne.testing.tpm;

import java.nio.charset.StandardCharsets;

@WithSwtpm
class PcrIsolationSecondTest extends PcrIsolationContract {

    @Override
    byte[] measurement() {
        return "second test class".getBytes(StandardCharsets.UTF_8);
    }
}

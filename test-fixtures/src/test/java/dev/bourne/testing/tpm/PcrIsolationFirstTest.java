package dev.bourne.testing.tpm;

import java.nio.charset.StandardCharsets;

@WithSwtpm
class PcrIsolationFirstTest extends PcrIsolationContract {

    @Override
    byte[] measurement() {
        return "first test class".getBytes(StandardCharsets.UTF_8);
    }
}

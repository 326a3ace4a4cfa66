package dev.bourne.keymanager.memory;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.keymanager.KeyManagerContract;
import java.security.SecureRandom;

class MemoryKeyManagerTest extends KeyManagerContract {

    @Override
    protected KeyManager open() {
        return new MemoryKeyManager(new SecureRandom());
    }

    @Override
    protected boolean persistent() {
        return false;
    }
}

package dev.bourne.core.config;

import java.util.Arrays;
import java.util.Optional;

/** The key algorithms and sizes a configuration can ask for, named as SPIRE names them ({@code ca_key_type}). */
public enum KeyType {
  EC_P256("ec-p256"),
  EC_P384("ec-p384"),
  RSA_2048("rsa-2048"),
  RSA_4096("rsa-4096");

  private final String configName;

  KeyType(String configName) {
    this.configName = configName;
  }

  /** The name used in configuration files, such as {@code ec-p256}. */
  public String configName() {
    return configName;
  }

  /** The key type a configuration file names, matched exactly. */
  public static Optional<KeyType> fromConfigName(String name) {
    return Arrays.stream(values()).filter(t -> t.configName.equals(name)).findFirst();
  }
}

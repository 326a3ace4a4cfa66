package dev.bourne.core.config;

/** The {@code log_format} setting. */
public enum LogFormat {
    TEXT("text"),
    JSON("json");

    private final String configName;

    LogFormat(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
    }
}

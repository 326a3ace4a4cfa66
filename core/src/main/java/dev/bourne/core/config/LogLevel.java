package dev.bourne.core.config;

/** The {@code log_level} setting; configuration files name it case-insensitively, as SPIRE does. */
public enum LogLevel {
    DEBUG,
    INFO,
    WARN,
    ERROR
}

package dev.bourne.appliance.datastore;

/** The databases the {@code sql} DataStore runs on, with their {@code database_type} names. */
public enum DatabaseType {
    /** Embedded SQLite, the default: one file under the data directory, one server. */
    SQLITE3("sqlite3"),
    /** PostgreSQL: one database shared by several servers. */
    POSTGRES("postgres");

    private final String configName;

    DatabaseType(String configName) {
        this.configName = configName;
    }

    /** The value of {@code database_type}. */
    public String configName() {
        return configName;
    }
}

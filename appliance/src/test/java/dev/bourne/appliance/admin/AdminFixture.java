package dev.bourne.appliance.admin;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaManagers;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real admin API for tests: settings loaded from a configuration file, a {@link SqlDataStore} on SQLite and a
 * {@link CaManager} on the memory key manager, in a temporary directory. {@link #channel()} reaches the services
 * in-process; {@link #services()} gives them to a socket server.
 */
public final class AdminFixture implements AutoCloseable {
    public static final String TRUST_DOMAIN = "example.org";

    private final ServerSettings settings;
    private final SqlDataStore dataStore;
    private final CaManager ca;
    private final List<BindableService> services;
    private Server server;
    private ManagedChannel channel;

    public AdminFixture(Path dir) throws Exception {
        SecureRandom random = new SecureRandom();
        Clock clock = Clock.systemUTC();
        Path config = dir.resolve("server.conf");
        Files.writeString(config, config(dir, dir.resolve("api.sock")));
        settings = ServerSettings.load(config).orElseThrow();
        dataStore = SqlDataStore.openSqlite(dir.resolve("data").resolve(SqlDataStore.SQLITE_FILE_NAME), clock, random);
        ca = CaManagers.start(settings, new MemoryKeyManager(random), clock, random);
        services = AdminServices.create(dataStore, ca, settings, clock, random);
    }

    /** A server configuration with the memory key manager and SQLite under {@code dir}. */
    public static String config(Path dir, Path socket) {
        return "server {\n"
                + "    bind_address = \"127.0.0.1\"\n"
                + "    bind_port = \"18081\"\n"
                + "    socket_path = \"" + socket + "\"\n"
                + "    trust_domain = \"" + TRUST_DOMAIN + "\"\n"
                + "    data_dir = \"" + dir.resolve("data") + "\"\n"
                + "    ca_ttl = \"24h\"\n"
                + "}\n"
                + "plugins {\n"
                + "    DataStore \"sql\" {\n"
                + "        plugin_data {\n"
                + "            database_type = \"sqlite3\"\n"
                + "            connection_string = \"" + dir.resolve("data").resolve("datastore.sqlite3") + "\"\n"
                + "        }\n"
                + "    }\n"
                + "    NodeAttestor \"join_token\" {\n"
                + "        plugin_data {\n"
                + "        }\n"
                + "    }\n"
                + "    KeyManager \"memory\" {\n"
                + "        plugin_data {\n"
                + "        }\n"
                + "    }\n"
                + "}\n";
    }

    public ServerSettings settings() {
        return settings;
    }

    public SqlDataStore dataStore() {
        return dataStore;
    }

    public CaManager ca() {
        return ca;
    }

    public List<BindableService> services() {
        return services;
    }

    /** A channel to the services served in-process (started on first use). */
    public synchronized ManagedChannel channel() throws Exception {
        if (channel == null) {
            String name = "admin-" + UUID.randomUUID();
            InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
            services.forEach(builder::addService);
            server = builder.build().start();
            channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        }
        return channel;
    }

    @Override
    public void close() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        ca.close();
        dataStore.close();
    }
}

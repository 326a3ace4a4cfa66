package dev.bourne.appliance.cli;

import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.ca.upstream.DiskUpstreamAuthority;
import dev.bourne.appliance.ca.upstream.Pkcs11UpstreamAuthority;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.appliance.server.ServerStartException;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.logging.Logging;
import dev.bourne.core.systemd.StopSignals;
import dev.bourne.core.systemd.SystemdNotifier;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bourne-server run}, {@code validate} and {@code healthcheck}. */
final class ServerCommands {
    static final String CONFIG_REQUIRED = "-config is required";
    static final String VALID = "Configuration is valid";
    static final String HEALTHY = "Server is healthy.";
    static final String UNHEALTHY = "Server is unhealthy: %s";

    private ServerCommands() {
    }

    /** Every error of a configuration file: the settings, then the plugin data both {@code run} and this check. */
    static List<ConfigError> check(Path file, PrintWriter err) {
        ConfigResult<ServerSettings> result = ServerSettings.load(file);
        if (result instanceof ConfigResult.Invalid<ServerSettings> invalid) {
            return invalid.errors();
        }
        ConfigResult.Valid<ServerSettings> valid = (ConfigResult.Valid<ServerSettings>) result;
        valid.warnings().forEach(w -> err.println("warning: " + w));
        ServerSettings settings = valid.settings();
        List<ConfigError> errors = new ArrayList<>();
        try {
            BourneServer.validate(settings);
        } catch (ConfigException e) {
            errors.addAll(e.errors());
        }
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals("UpstreamAuthority")) {
                switch (plugin.name()) {
                    case "disk" -> errors.addAll(DiskUpstreamAuthority.Settings.read(plugin).errors());
                    case "pkcs11" -> errors.addAll(
                            Pkcs11UpstreamAuthority.Settings.read(plugin, settings.dataDir()).errors());
                    default -> {
                        // ServerSettings already refused names other than the built-ins.
                    }
                }
            }
        }
        return errors;
    }

    @Command(name = "run", description = "Run the server")
    static final class Run implements Callable<Integer> {
        /** How often the start-up status is re-read while the server waits (for the HSM, typically). */
        static final Duration WAITING_POLL = Duration.ofMillis(500);

        @Spec
        CommandSpec spec;

        @Option(names = "-config", paramLabel = "FILE", description = "The configuration file")
        Path config;

        /**
         * Runs the server until SIGTERM or SIGINT, then stops it and exits 0. Under systemd ({@code Type=notify}) it
         * tells the service manager how start-up goes ({@code STATUS=}), that the server is ready ({@code READY=1},
         * see {@link #readyNow}) and that it stops ({@code STOPPING=1}). A configuration error names the file, key
         * and reason of each problem and exits 1 before anything starts.
         */
        @Override
        public Integer call() throws Exception {
            if (config == null) {
                throw new ParameterException(spec.commandLine(), CONFIG_REQUIRED);
            }
            PrintWriter err = spec.commandLine().getErr();
            ConfigResult<ServerSettings> result = ServerSettings.load(config);
            if (result instanceof ConfigResult.Invalid<ServerSettings> invalid) {
                invalid.errors().forEach(e -> err.println("Error: " + e));
                return ServerCli.FAILED;
            }
            ConfigResult.Valid<ServerSettings> valid = (ConfigResult.Valid<ServerSettings>) result;
            valid.warnings().forEach(w -> err.println("warning: " + w));
            Logging.configure(valid.settings().logLevel(), valid.settings().logFormat());
            ServerCli cli = (ServerCli) spec.root().userObject();
            StopSignals stop = cli.stopSignals();
            try (SystemdNotifier notifier = SystemdNotifier.create(cli.env(), ProcessHandle.current().pid())) {
                notifier.status("starting");
                BourneServer server;
                try {
                    server = BourneServer.start(valid.settings(), cli.clock(), new SecureRandom(),
                            AdminServices::create);
                } catch (ConfigException e) {
                    e.errors().forEach(error -> err.println("Error: " + error));
                    return ServerCli.FAILED;
                } catch (ServerStartException e) {
                    err.println("Error: the server could not start: " + e.getMessage());
                    return ServerCli.FAILED;
                }
                err.flush();
                // Any other way out of the JVM (SIGHUP, System.exit) still closes the server; close is idempotent.
                Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bourne-server-shutdown"));
                // A fatal failure after start (the CA failing once the HSM came back) closes the server: stop too.
                server.stopped().thenRun(() -> stop.request("the server stopped"));
                server.serving().thenRun(() -> readyNow(server, notifier));
                String waiting = null;
                while (!notifier.readySent() && !readyNow(server, notifier)) {
                    String now = "waiting: " + String.join("; ", server.notReady());
                    if (!now.equals(waiting)) {
                        notifier.status(now);
                        waiting = now;
                    }
                    if (stop.await(WAITING_POLL)) {
                        break;
                    }
                }
                while (!stop.await(Duration.ofHours(1))) {
                    // Nothing to do until a stop: the server runs on its own threads.
                }
                String why = stop.reason().orElse("stop");
                notifier.stopping("stopping (" + why + ")");
                server.close();
                return why.startsWith("SIG") ? ServerCli.OK : ServerCli.FAILED;
            }
        }

        /**
         * Sends {@code READY=1} when the server is ready: every listener serves (agent API, admin socket, federation
         * listeners when configured), the datastore answers, the key manager is ACTIVE and the CA has an active X.509
         * authority ({@link BourneServer#notReady()} empty). Returns whether it is ready.
         */
        static boolean readyNow(BourneServer server, SystemdNotifier notifier) {
            if (!server.serving().isDone() || !server.notReady().isEmpty()) {
                return false;
            }
            notifier.ready("ready: admin API on " + server.settings().socketPath() + ", agent API on port "
                    + server.agentApiPort().map(String::valueOf).orElse("?"));
            return true;
        }
    }

    @Command(name = "validate", description = "Validate a configuration file: print every error, exit 1 if any")
    static final class Validate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "-config", paramLabel = "FILE", description = "The configuration file")
        Path config;

        @Override
        public Integer call() {
            if (config == null) {
                throw new ParameterException(spec.commandLine(), CONFIG_REQUIRED);
            }
            PrintWriter err = spec.commandLine().getErr();
            List<ConfigError> errors = check(config, err);
            if (errors.isEmpty()) {
                spec.commandLine().getOut().println(VALID);
                return ServerCli.OK;
            }
            errors.forEach(err::println);
            return ServerCli.FAILED;
        }
    }

    @Command(name = "healthcheck", description = "Check the server's health over the admin socket")
    static final class Healthcheck extends AdminCommand {
        @Option(names = "-shallow", description = "Only check that the server answers (liveness), not readiness")
        boolean shallow;

        @Option(names = "-verbose", description = "Print what is checked")
        boolean verbose;

        @Override
        int run(AdminClient client, PrintWriter out) {
            PrintWriter err = spec.commandLine().getErr();
            HealthCheckResponse response;
            try {
                response = client.health().check(HealthCheckRequest.getDefaultInstance());
            } catch (io.grpc.StatusRuntimeException e) {
                err.println(String.format(UNHEALTHY, ServerCli.statusMessage(e.getStatus())));
                return ServerCli.FAILED;
            }
            if (verbose) {
                out.println("grpc.health.v1: " + response.getStatus());
            }
            if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
                err.println(String.format(UNHEALTHY, "grpc.health.v1 reports " + response.getStatus()));
                return ServerCli.FAILED;
            }
            if (!shallow) {
                // Ready means it can serve: the CA answers with a bundle and the datastore answers a count.
                try {
                    client.bundles().getBundle(dev.bourne.api.v1.GetBundleRequest.getDefaultInstance());
                    if (verbose) {
                        out.println("CA: bundle served");
                    }
                    client.entries().countEntries(dev.bourne.api.v1.CountEntriesRequest.getDefaultInstance());
                    if (verbose) {
                        out.println("datastore: entries counted");
                    }
                } catch (io.grpc.StatusRuntimeException e) {
                    err.println(String.format(UNHEALTHY, ServerCli.statusMessage(e.getStatus())));
                    return ServerCli.FAILED;
                }
            }
            out.println(HEALTHY);
            return ServerCli.OK;
        }
    }
}

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
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
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
        @Spec
        CommandSpec spec;

        @Option(names = "-config", paramLabel = "FILE", description = "The configuration file")
        Path config;

        @Override
        public Integer call() throws Exception {
            if (config == null) {
                throw new ParameterException(spec.commandLine(), CONFIG_REQUIRED);
            }
            PrintWriter err = spec.commandLine().getErr();
            ConfigResult<ServerSettings> result = ServerSettings.load(config);
            if (result instanceof ConfigResult.Invalid<ServerSettings> invalid) {
                invalid.errors().forEach(err::println);
                return ServerCli.FAILED;
            }
            ConfigResult.Valid<ServerSettings> valid = (ConfigResult.Valid<ServerSettings>) result;
            valid.warnings().forEach(w -> err.println("warning: " + w));
            ServerCli cli = (ServerCli) spec.root().userObject();
            BourneServer server;
            try {
                server = BourneServer.start(valid.settings(), cli.clock(), new SecureRandom(), AdminServices::create);
            } catch (ConfigException e) {
                e.errors().forEach(err::println);
                return ServerCli.FAILED;
            } catch (ServerStartException e) {
                err.println("Error: the server could not start: " + e.getMessage());
                return ServerCli.FAILED;
            }
            // SIGTERM and SIGINT run the hook; the main thread then returns from awaitTermination.
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bourne-server-shutdown"));
            server.awaitTermination();
            return ServerCli.OK;
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

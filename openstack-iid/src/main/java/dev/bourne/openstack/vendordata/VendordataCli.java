package dev.bourne.openstack.vendordata;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.LogFormat;
import dev.bourne.core.logging.Logging;
import dev.bourne.core.systemd.JournalStream;
import dev.bourne.core.systemd.StopSignals;
import dev.bourne.core.systemd.SystemdNotifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code bourne-vendordata} command line, shaped like {@code bourne-server}'s (single-dash flags):
 * {@code run -config FILE} runs the IID signing service, {@code validate -config FILE} reports every configuration
 * error (settings, key manager plugin data, then the files named: certificate, key, CA, token), and
 * {@code healthcheck [-url URL] [-caFile FILE]} asks a running service whether it is ready. Exit codes: 0 success,
 * 1 failure, 2 usage error.
 */
@Command(name = "bourne-vendordata", mixinStandardHelpOptions = true, version = "bourne-vendordata 0.1.0",
        description = "The Bourne IID signing service that Nova's DynamicJSON vendordata calls.",
        subcommands = {VendordataCli.Run.class, VendordataCli.Validate.class, VendordataCli.Healthcheck.class})
public final class VendordataCli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    public static final String CONFIG_REQUIRED = "-config is required";
    public static final String VALID = "Configuration is valid";
    public static final String READY = "Vendordata service is ready.";
    public static final String NOT_READY = "Vendordata service is not ready: %s";
    public static final String DEFAULT_HEALTH_URL = "https://localhost:" + VendordataSettings.DEFAULT_BIND_PORT
            + VendordataServer.READY_PATH;
    /** How long {@code healthcheck} waits for the connection and the answer. */
    public static final Duration HEALTHCHECK_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Request and response time limits of the JDK HTTP server, in seconds, set by {@link #main} unless given with
     * {@code -D}: without them a client that sends its request slowly holds a worker thread for ever.
     */
    static final String MAX_REQUEST_TIME = "sun.net.httpserver.maxReqTime";
    static final String MAX_RESPONSE_TIME = "sun.net.httpserver.maxRspTime";
    static final String HTTP_TIME_LIMIT_SECONDS = "30";
    /** Open connections the JDK HTTP server accepts at once; Nova's metadata API makes a few at a time. */
    static final String MAX_CONNECTIONS = "jdk.httpserver.maxConnections";
    static final String MAX_CONNECTIONS_VALUE = "512";

    /** systemd's status line while the service is not ready (the log says why). */
    static final String WAITING = "waiting: the signing keys are not loaded or the KeyManager cannot sign";
    /** While the service is not ready, how often {@code run} checks it again (for systemd's READY=1). */
    static final Duration READY_POLL = Duration.ofSeconds(5);

    private final Clock clock;
    private final Consumer<VendordataService> started;
    private final Map<String, String> env;
    private final Supplier<StopSignals> stopSignals;

    /** The real process: the system clock, its environment, and SIGTERM/SIGINT handled by {@code run}. */
    public VendordataCli() {
        this(Clock.systemUTC(), service -> {
        }, System.getenv(), StopSignals::install);
    }

    /**
     * For tests: a clock, and a callback given the service once {@code run} has started it (a test closes it to end
     * {@code run}); no systemd notifications and the JVM's own signal handling.
     */
    public VendordataCli(Clock clock, Consumer<VendordataService> started) {
        this(clock, started, Map.of(), StopSignals::manual);
    }

    private VendordataCli(Clock clock, Consumer<VendordataService> started, Map<String, String> env,
            Supplier<StopSignals> stopSignals) {
        this.clock = clock;
        this.started = started;
        this.env = Map.copyOf(env);
        this.stopSignals = stopSignals;
    }

    /** Runs the command line with {@code out} and {@code err} as its streams and returns its exit code. */
    public static int execute(VendordataCli cli, PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(cli);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("Error: " + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage()));
            line.getErr().flush();
            return FAILED;
        });
        int code = commandLine.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** The launcher's entry point: the only place the process's exit status is set. */
    public static void main(String[] args) {
        // First: under systemd, stdout and stderr lines get their journald priority (before anything holds them).
        JournalStream.install(System.getenv());
        if (System.getProperty(MAX_REQUEST_TIME) == null) {
            System.setProperty(MAX_REQUEST_TIME, HTTP_TIME_LIMIT_SECONDS);
        }
        if (System.getProperty(MAX_RESPONSE_TIME) == null) {
            System.setProperty(MAX_RESPONSE_TIME, HTTP_TIME_LIMIT_SECONDS);
        }
        if (System.getProperty(MAX_CONNECTIONS) == null) {
            System.setProperty(MAX_CONNECTIONS, MAX_CONNECTIONS_VALUE);
        }
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = execute(new VendordataCli(), out, err, args);
        // A command-line tool's contract is its exit status; Java sets it only through System.exit.
        System.exit(code);
    }

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    /** Every error of a configuration file: the settings with the key manager's plugin data, then the files. */
    static List<ConfigError> check(Path file, PrintWriter err) {
        ConfigResult<VendordataSettings> result = VendordataSettings.load(file);
        if (result instanceof ConfigResult.Invalid<VendordataSettings> invalid) {
            return invalid.errors();
        }
        ConfigResult.Valid<VendordataSettings> valid = (ConfigResult.Valid<VendordataSettings>) result;
        valid.warnings().forEach(w -> err.println("warning: " + w));
        return new ArrayList<>(VendordataService.checkFiles(valid.settings(), file));
    }

    @Command(name = "run", description = "Run the IID signing service")
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
            ConfigResult<VendordataSettings> result = VendordataSettings.load(config);
            if (result instanceof ConfigResult.Invalid<VendordataSettings> invalid) {
                invalid.errors().forEach(err::println);
                return FAILED;
            }
            ConfigResult.Valid<VendordataSettings> valid = (ConfigResult.Valid<VendordataSettings>) result;
            valid.warnings().forEach(w -> err.println("warning: " + w));
            Logging.configure(valid.settings().logLevel(), LogFormat.TEXT);
            VendordataCli cli = (VendordataCli) spec.root().userObject();
            VendordataService service;
            try {
                service = VendordataService.start(valid.settings(), config, cli.clock, new SecureRandom());
            } catch (ConfigException e) {
                e.errors().forEach(err::println);
                return FAILED;
            } catch (VendordataStartException e) {
                err.println("Error: the vendordata service could not start: " + e.getMessage());
                return FAILED;
            }
            // SIGTERM and SIGINT stop the service below (exit 0); any other way out still closes it through the hook.
            Runtime.getRuntime().addShutdownHook(new Thread(service::close, "bourne-vendordata-shutdown"));
            StopSignals stop = cli.stopSignals.get();
            Thread closed = new Thread(() -> {
                try {
                    service.awaitTermination();
                    stop.request("the service stopped");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bourne-vendordata-closed");
            closed.setDaemon(true);
            closed.start();
            cli.started.accept(service);
            // Under systemd (Type=notify): READY=1 once ready as GET /ready means it, STATUS= while waiting.
            try (SystemdNotifier notifier = SystemdNotifier.create(cli.env, ProcessHandle.current().pid())) {
                boolean stopped = false;
                if (!service.ready()) {
                    notifier.status(WAITING);
                }
                while (!service.ready()) {
                    if (stop.await(READY_POLL)) {
                        stopped = true;
                        break;
                    }
                }
                if (!stopped) {
                    notifier.ready("ready: signing on port " + service.port());
                }
                while (!stop.await(Duration.ofHours(1))) {
                    // Nothing to do until a stop: the service runs on its own threads.
                }
                notifier.stopping("stopping (" + stop.reason().orElse("stop") + ")");
                service.close();
            }
            return OK;
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
                return OK;
            }
            errors.forEach(err::println);
            return FAILED;
        }
    }

    @Command(name = "healthcheck", description = "Ask a running service whether it is ready (GET /ready)")
    static final class Healthcheck implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "-url", paramLabel = "URL", description = "The service's ready URL (default: "
                + DEFAULT_HEALTH_URL + ")")
        String url = DEFAULT_HEALTH_URL;

        @Option(names = "-caFile", paramLabel = "FILE",
                description = "PEM CA certificates to verify the service's certificate with (default: the JDK's)")
        Path caFile;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new ParameterException(spec.commandLine(), "-url is not a URL: " + e.getReason());
            }
            if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new ParameterException(spec.commandLine(), "-url must be an https URL with a host");
            }
            HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(HEALTHCHECK_TIMEOUT)
                    .followRedirects(HttpClient.Redirect.NEVER);
            if (caFile != null) {
                try {
                    builder.sslContext(trusting(PemFiles.certificates(caFile)));
                } catch (PemFiles.Unusable e) {
                    err.println("Error: -caFile " + caFile + ": " + e.getMessage());
                    return FAILED;
                } catch (GeneralSecurityException e) {
                    err.println("Error: -caFile " + caFile + ": " + e.getMessage());
                    return FAILED;
                }
            }
            HttpClient client = builder.build();
            HttpResponse<String> response;
            try {
                response = client.send(HttpRequest.newBuilder(uri).timeout(HEALTHCHECK_TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                err.println(String.format(NOT_READY, "cannot reach " + uri + ": " + (e.getMessage() == null
                        ? e.getClass().getSimpleName() : e.getMessage())));
                return FAILED;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println(String.format(NOT_READY, "interrupted"));
                return FAILED;
            }
            if (response.statusCode() != 200) {
                String body = response.body().strip();
                int newline = body.indexOf('\n');
                err.println(String.format(NOT_READY, "HTTP " + response.statusCode() + (body.isEmpty() ? ""
                        : ": " + dev.bourne.core.internal.Texts.quote(newline < 0 ? body : body.substring(0, newline)))));
                return FAILED;
            }
            spec.commandLine().getOut().println(READY);
            return OK;
        }

        private static SSLContext trusting(List<X509Certificate> cas) throws GeneralSecurityException {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            try {
                anchors.load(null, null);
            } catch (IOException e) {
                throw new GeneralSecurityException("cannot create an in-memory trust store", e);
            }
            for (int i = 0; i < cas.size(); i++) {
                anchors.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(anchors);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), new SecureRandom());
            return context;
        }
    }
}

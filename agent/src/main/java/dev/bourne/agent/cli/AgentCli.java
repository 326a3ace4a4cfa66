package dev.bourne.agent.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bourne.agent.runtime.AgentPlugins;
import dev.bourne.agent.runtime.AgentRuntime;
import dev.bourne.agent.runtime.AgentStartException;
import dev.bourne.agent.runtime.AgentStatus;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.logging.Logging;
import dev.bourne.core.systemd.JournalStream;
import dev.bourne.core.systemd.StopSignals;
import dev.bourne.core.systemd.SystemdNotifier;
import dev.bourne.workload.v1.JWTBundlesResponse;
import dev.bourne.workload.v1.JWTSVID;
import dev.bourne.workload.v1.JWTSVIDResponse;
import dev.bourne.workload.v1.ValidateJWTSVIDResponse;
import dev.bourne.workload.v1.X509SVID;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The {@code bourne-agent} command line (ARCHITECTURE.md section 2): {@code run}, {@code validate},
 * {@code healthcheck}, the Workload API client commands under {@code api}, and {@code tpm ek}. Flags are single-dash as SPIRE's.
 * Exit codes: 0 success, 1 failure (bad configuration, agent unreachable or refusing), 2 usage error (bad flags,
 * rejected before any call).
 */
@Command(name = "bourne-agent", mixinStandardHelpOptions = true, version = "bourne-agent 0.1.0",
        description = "The Bourne agent: attests this node and serves the SPIFFE Workload API.",
        subcommands = {AgentCli.Run.class, AgentCli.Validate.class, AgentCli.Healthcheck.class, AgentCli.Api.class,
                TpmCommands.class})
public final class AgentCli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    public static final String TIMEOUT_NOT_POSITIVE = "-timeout must be a positive duration such as 5s, 1m or 1h";
    public static final String AUDIENCE_REQUIRED = "-audience is required";
    public static final String SVID_REQUIRED = "-svid is required";
    public static final String NO_SOCKET = "no Workload API socket at ";
    public static final String NOT_READY = "the agent is not ready (it has not attested or synced yet)";
    public static final String NO_IDENTITY = "the agent has no identity for this process; register an entry "
            + "whose selectors match it (for example unix:uid:";

    private final Map<String, String> env;
    private final Predicate<Path> exists;
    private final Clock clock;
    private final Supplier<StopSignals> stopSignals;

    /** The real process: environment, file system, clock, and SIGTERM/SIGINT handled by {@code run}. */
    public AgentCli() {
        this(System.getenv(), Files::exists, Clock.systemUTC(), StopSignals::install);
    }

    /**
     * For tests: a given environment, file existence check and clock; {@code run} leaves the JVM's signal handling
     * alone.
     */
    public AgentCli(Map<String, String> env, Predicate<Path> exists, Clock clock) {
        this(env, exists, clock, StopSignals::manual);
    }

    private AgentCli(Map<String, String> env, Predicate<Path> exists, Clock clock,
            Supplier<StopSignals> stopSignals) {
        this.env = Map.copyOf(env);
        this.exists = exists;
        this.clock = clock;
        this.stopSignals = stopSignals;
    }

    /** Runs the command line and returns its exit code. */
    public static int execute(AgentCli cli, PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(cli);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("Error: " + message(e));
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
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        int code = execute(new AgentCli(), out, err, args);
        // A command-line tool's contract is its exit status (0/1/2); Java sets it only through System.exit.
        System.exit(code);
    }

    @Override
    public Integer call() {
        return USAGE;
    }

    private static String message(Throwable e) {
        if (e instanceof StatusRuntimeException sre) {
            return statusMessage(sre.getStatus());
        }
        String text = e.getMessage();
        return text == null || text.isEmpty() ? e.getClass().getSimpleName() : text;
    }

    /** This process's uid as the kernel reports it, for the hint in {@link #NO_IDENTITY}. */
    private static String ownUid() {
        try {
            return String.valueOf(java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid"));
        } catch (java.io.IOException | RuntimeException e) {
            return "<your uid>";
        }
    }

    static String statusMessage(Status status) {
        return switch (status.getCode()) {
            case PERMISSION_DENIED -> NO_IDENTITY + ownUid() + " for this process, pid "
                    + ProcessHandle.current().pid() + ")";
            case UNAVAILABLE -> "the Workload API is unavailable: " + describe(status);
            case INVALID_ARGUMENT -> "the agent rejected the request: " + describe(status);
            case DEADLINE_EXCEEDED -> "the agent did not answer in time";
            default -> "the Workload API call failed: " + status.getCode() + " " + describe(status);
        };
    }

    private static String describe(Status status) {
        String cause = status.getCause() == null ? null : status.getCause().getMessage();
        if (status.getDescription() != null) {
            return status.getDescription() + (cause == null ? "" : " (" + cause + ")");
        }
        return cause == null ? status.getCode().toString() : cause;
    }

    Path socket(Optional<String> flag) throws CliException {
        Path socket = SocketDiscovery.resolve(flag, env, exists);
        if (!exists.test(socket) && !Files.exists(socket)) {
            throw new CliException(NO_SOCKET + socket + " (is the agent running?)");
        }
        return socket;
    }

    static Duration parseDuration(String text) {
        if (text == null || text.length() < 2 || text.length() > 12) {
            throw new IllegalArgumentException(TIMEOUT_NOT_POSITIVE);
        }
        char unit = text.charAt(text.length() - 1);
        long amount;
        try {
            amount = Long.parseLong(text.substring(0, text.length() - 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TIMEOUT_NOT_POSITIVE);
        }
        if (amount <= 0 || !Character.isDigit(text.charAt(0))) {
            throw new IllegalArgumentException(TIMEOUT_NOT_POSITIVE);
        }
        return switch (unit) {
            case 's' -> Duration.ofSeconds(amount);
            case 'm' -> Duration.ofMinutes(amount);
            case 'h' -> Duration.ofHours(amount);
            default -> throw new IllegalArgumentException(TIMEOUT_NOT_POSITIVE);
        };
    }

    @Command(name = "run", description = "Runs the agent.")
    static final class Run implements Callable<Integer> {
        @ParentCommand
        AgentCli cli;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "-config", paramLabel = "FILE", required = true, description = "agent configuration file")
        Path config;
        @Option(names = "-joinToken", paramLabel = "TOKEN",
                description = "one-time join token (overrides plugin_data join_token)")
        String joinToken;

        /**
         * Runs the agent until SIGTERM or SIGINT, then stops it (the Workload API socket and its lock file are
         * removed) and exits 0. Under systemd ({@code Type=notify}) it sends {@code STATUS=} while it attests,
         * {@code READY=1} once {@link AgentStatus#ready()} (see {@link Readiness}) and {@code STOPPING=1}.
         */
        @Override
        public Integer call() throws AgentStartException, InterruptedException {
            PrintWriter err = spec.commandLine().getErr();
            Optional<AgentSettings> settings = Validate.load(config, err);
            if (settings.isEmpty()) {
                return FAILED;
            }
            Logging.configure(settings.get().logLevel(), settings.get().logFormat());
            StopSignals stop = cli.stopSignals.get();
            try (SystemdNotifier notifier = SystemdNotifier.create(cli.env, ProcessHandle.current().pid())) {
                notifier.status("starting");
                AgentRuntime runtime = AgentRuntime.start(settings.get(), Optional.ofNullable(joinToken), cli.clock,
                        new SecureRandom());
                // Any other way out of the JVM (SIGHUP, System.exit) still closes the agent; close is idempotent.
                Runtime.getRuntime().addShutdownHook(new Thread(runtime::close, "bourne-agent-shutdown"));
                Readiness readiness = new Readiness(notifier, runtime.socketPath());
                runtime.onStatus(readiness::report);
                // The first round may have ended before the listener was added.
                readiness.report(runtime.status());
                err.println("bourne-agent: serving the Workload API on " + runtime.socketPath());
                err.flush();
                while (!stop.await(Duration.ofHours(1))) {
                    // Nothing to do until a stop: the agent runs on its own threads.
                }
                notifier.stopping("stopping (" + stop.reason().orElse("stop") + ")");
                runtime.close();
                return OK;
            }
        }
    }

    /**
     * What the agent tells systemd after each round of server work: {@code READY=1} the first time it is ready (the
     * node attested, or an agent SVID saved by an earlier run resumed; with NodeAttestor "tpm" either needed the TPM to
     * answer: quote and credential activation, or unsealing the saved key; and the first entry sync done, so the
     * Workload API, which serves from start-up, answers with SVIDs rather than UNAVAILABLE), and a {@code STATUS=}
     * line whenever the reason shown changes. Reasons never contain the join token.
     */
    static final class Readiness {
        private final SystemdNotifier notifier;
        private final Path socket;
        private String shown;

        Readiness(SystemdNotifier notifier, Path socket) {
            this.notifier = notifier;
            this.socket = socket;
        }

        synchronized void report(AgentStatus status) {
            String line = status.ready()
                    ? "ready: Workload API on " + socket + (status.reason().isEmpty() ? "" : " (" + status.reason()
                            + ")")
                    : (notifier.readySent() ? "degraded: " : "waiting: ") + status.reason();
            if (status.ready() && notifier.ready(line)) {
                shown = line;
                return;
            }
            if (!line.equals(shown)) {
                notifier.status(line);
                shown = line;
            }
        }
    }

    @Command(name = "validate", description = "Validates an agent configuration file and reports every error.")
    static final class Validate implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "-config", paramLabel = "FILE", required = true, description = "agent configuration file")
        Path config;

        @Override
        public Integer call() {
            Optional<AgentSettings> settings = load(config, spec.commandLine().getErr());
            if (settings.isEmpty()) {
                return FAILED;
            }
            spec.commandLine().getOut().println("Agent configuration file is valid.");
            return OK;
        }

        /** Loads and validates the file and the agent's plugins, printing every error and warning. */
        static Optional<AgentSettings> load(Path config, PrintWriter err) {
            ConfigResult<AgentSettings> result = AgentSettings.load(config);
            List<ConfigError> errors = new ArrayList<>(result.errors());
            if (result instanceof ConfigResult.Valid<AgentSettings> valid) {
                errors.addAll(AgentPlugins.validate(valid.settings()));
                for (ConfigError warning : valid.warnings()) {
                    err.println("Warning: " + warning);
                }
                if (errors.isEmpty()) {
                    err.flush();
                    return Optional.of(valid.settings());
                }
            }
            for (ConfigError error : errors) {
                err.println("Error: " + error);
            }
            err.flush();
            return Optional.empty();
        }
    }

    @Command(name = "healthcheck", description = "Exits 0 when the agent answers on its Workload API and is ready.")
    static final class Healthcheck implements Callable<Integer> {
        @ParentCommand
        AgentCli cli;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        ClientOptionsMixin options;
        @Option(names = "-verbose", description = "print what was checked")
        boolean verbose;

        @Override
        public Integer call() throws CliException {
            Duration timeout = options.timeout(spec.commandLine());
            try (WorkloadClient client = new WorkloadClient(cli.socket(options.socketPath()), timeout)) {
                client.fetchX509();
            } catch (StatusRuntimeException e) {
                // A ready agent with no entry for this process answers PERMISSION_DENIED: it is healthy.
                if (e.getStatus().getCode() != Status.Code.PERMISSION_DENIED) {
                    spec.commandLine().getErr().println("Agent is unhealthy: " + statusMessage(e.getStatus()));
                    return FAILED;
                }
            }
            spec.commandLine().getOut().println("Agent is healthy.");
            return OK;
        }
    }

    /** {@link ClientOptions} as a picocli mixin. */
    static final class ClientOptionsMixin {
        @Option(names = "-socketPath", paramLabel = "PATH",
                description = "Workload API socket (path or unix:///path); default: $SPIFFE_ENDPOINT_SOCKET, "
                        + "/run/bourne/agent/public/api.sock, /tmp/bourne-agent/public/api.sock")
        String socketPath;

        @Option(names = "-timeout", paramLabel = "DURATION", defaultValue = "5s",
                description = "time to wait for the agent (default 5s)")
        String timeout;

        Optional<String> socketPath() {
            return Optional.ofNullable(socketPath);
        }

        Duration timeout(CommandLine commandLine) {
            try {
                return parseDuration(timeout);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(commandLine, e.getMessage());
            }
        }
    }

    @Command(name = "api", description = "Workload API client commands.",
            subcommands = {Fetch.class, ApiValidate.class, Watch.class})
    static final class Api implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command: fetch, validate or watch");
        }
    }

    @Command(name = "fetch", description = "Fetches SVIDs from the Workload API.", subcommands = {FetchX509.class,
            FetchJwt.class})
    static final class Fetch implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command: x509 or jwt");
        }
    }

    @Command(name = "validate", description = "Validates SVIDs through the Workload API.",
            subcommands = {ValidateJwt.class})
    static final class ApiValidate implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing command: jwt");
        }
    }

    private static AgentCli root(CommandLine.Model.CommandSpec spec) {
        CommandLine line = spec.commandLine();
        while (line.getParent() != null) {
            line = line.getParent();
        }
        return line.getCommand();
    }

    @Command(name = "x509", description = "Fetches this process's X.509-SVIDs and bundles.")
    static final class FetchX509 implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        ClientOptionsMixin options;
        @Option(names = "-write", paramLabel = "DIR",
                description = "also write svid.N.pem, svid.N.key, bundle.N.pem and federated_bundle.N.M.pem to DIR")
        Path write;

        @Override
        public Integer call() throws CliException, IOException {
            Duration timeout = options.timeout(spec.commandLine());
            if (write != null && !Files.isDirectory(write)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "-write " + write
                        + " is not an existing directory");
            }
            AgentCli cli = root(spec);
            X509SVIDResponse response;
            long started = System.nanoTime();
            try (WorkloadClient client = new WorkloadClient(cli.socket(options.socketPath()), timeout)) {
                response = client.fetchX509();
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf("Received %d svid(s) after %d ms%n", response.getSvidsCount(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            printX509(out, response);
            if (write != null) {
                for (Path file : SvidFiles.write(write, response)) {
                    out.println("Wrote " + file);
                }
            }
            return OK;
        }
    }

    static void printX509(PrintWriter out, X509SVIDResponse response) throws CliException {
        for (X509SVID svid : response.getSvidsList()) {
            List<X509Certificate> chain = SvidFiles.certificates(svid.getX509Svid());
            out.println();
            out.println("SPIFFE ID:        " + svid.getSpiffeId());
            if (!svid.getHint().isEmpty()) {
                out.println("Hint:             " + svid.getHint());
            }
            if (!chain.isEmpty()) {
                X509Certificate leaf = chain.get(0);
                out.println("Serial number:    " + leaf.getSerialNumber().toString(16));
                out.println("Valid after:      " + leaf.getNotBefore().toInstant());
                out.println("Valid until:      " + leaf.getNotAfter().toInstant());
            }
            int n = 1;
            for (X509Certificate ca : SvidFiles.certificates(svid.getBundle())) {
                out.println("Bundle CA #" + n++ + ":     " + ca.getSubjectX500Principal().getName() + ", valid until "
                        + ca.getNotAfter().toInstant());
            }
        }
        for (Map.Entry<String, ByteString> federated : new TreeMap<>(response.getFederatedBundlesMap()).entrySet()) {
            out.println("Federated bundle: " + federated.getKey() + " ("
                    + SvidFiles.certificates(federated.getValue()).size() + " CA certificate(s))");
        }
        out.flush();
    }

    @Command(name = "jwt", description = "Fetches JWT-SVIDs for an audience and the JWT bundles.")
    static final class FetchJwt implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        ClientOptionsMixin options;
        @Option(names = "-audience", paramLabel = "AUDIENCE", split = ",",
                description = "audience(s) of the token, comma separated or repeated")
        List<String> audience;
        @Option(names = "-spiffeID", paramLabel = "ID", description = "only the JWT-SVID of this SPIFFE ID")
        String spiffeId;

        @Override
        public Integer call() throws CliException {
            Duration timeout = options.timeout(spec.commandLine());
            if (audience == null || audience.isEmpty() || audience.stream().anyMatch(String::isBlank)) {
                throw new CommandLine.ParameterException(spec.commandLine(), AUDIENCE_REQUIRED);
            }
            if (spiffeId != null && !spiffeId.startsWith("spiffe://")) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "-spiffeID must be a SPIFFE ID (spiffe://trust-domain/path)");
            }
            AgentCli cli = root(spec);
            PrintWriter out = spec.commandLine().getOut();
            try (WorkloadClient client = new WorkloadClient(cli.socket(options.socketPath()), timeout)) {
                JWTSVIDResponse svids = client.fetchJwt(audience, spiffeId == null ? "" : spiffeId);
                for (JWTSVID svid : svids.getSvidsList()) {
                    out.println("SPIFFE ID: " + svid.getSpiffeId());
                    if (!svid.getHint().isEmpty()) {
                        out.println("Hint:      " + svid.getHint());
                    }
                    out.println("Token:     " + svid.getSvid());
                    out.println();
                }
                JWTBundlesResponse bundles = client.fetchJwtBundles();
                for (Map.Entry<String, ByteString> bundle : new TreeMap<>(bundles.getBundlesMap()).entrySet()) {
                    out.println("Bundle of " + bundle.getKey() + ":");
                    out.println(bundle.getValue().toString(StandardCharsets.UTF_8));
                }
            }
            out.flush();
            return OK;
        }
    }

    @Command(name = "jwt", description = "Validates a JWT-SVID for an audience through the agent.")
    static final class ValidateJwt implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        ClientOptionsMixin options;
        @Option(names = "-audience", paramLabel = "AUDIENCE", description = "the audience the token must name")
        String audience;
        @Option(names = "-svid", paramLabel = "TOKEN", description = "the JWT-SVID")
        String svid;

        @Override
        public Integer call() throws CliException {
            Duration timeout = options.timeout(spec.commandLine());
            if (audience == null || audience.isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), AUDIENCE_REQUIRED);
            }
            if (svid == null || svid.isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), SVID_REQUIRED);
            }
            AgentCli cli = root(spec);
            try (WorkloadClient client = new WorkloadClient(cli.socket(options.socketPath()), timeout)) {
                ValidateJWTSVIDResponse response = client.validateJwt(audience, svid.strip());
                PrintWriter out = spec.commandLine().getOut();
                out.println("SVID is valid.");
                out.println("SPIFFE ID: " + response.getSpiffeId());
                out.println("Claims:    " + json(Value.newBuilder().setStructValue(response.getClaims()).build()));
                out.flush();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                    spec.commandLine().getErr().println("SVID is not valid: " + describe(e.getStatus()));
                    return FAILED;
                }
                throw e;
            }
            return OK;
        }
    }

    /** Renders a protobuf Struct value as compact JSON (claims are small; no extra dependency for this). */
    static String json(Value value) {
        return switch (value.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> "null";
            case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
            case NUMBER_VALUE -> {
                double d = value.getNumberValue();
                yield d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
            }
            case STRING_VALUE -> Texts.jsonString(value.getStringValue());
            case LIST_VALUE -> {
                ListValue list = value.getListValue();
                List<String> parts = new ArrayList<>();
                list.getValuesList().forEach(v -> parts.add(json(v)));
                yield "[" + String.join(",", parts) + "]";
            }
            case STRUCT_VALUE -> {
                Struct struct = value.getStructValue();
                List<String> parts = new ArrayList<>();
                new TreeMap<>(struct.getFieldsMap())
                        .forEach((k, v) -> parts.add(Texts.jsonString(k) + ":" + json(v)));
                yield "{" + String.join(",", parts) + "}";
            }
        };
    }

    @Command(name = "watch", description = "Streams X.509-SVID updates until Ctrl-C or -timeout.")
    static final class Watch implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "-socketPath", paramLabel = "PATH", description = "Workload API socket")
        String socketPath;
        @Option(names = "-timeout", paramLabel = "DURATION", description = "stop watching after this long")
        String timeout;
        @Option(names = "-count", paramLabel = "N", description = "stop after N updates")
        Integer count;

        @Override
        public Integer call() throws CliException {
            Optional<Duration> limit;
            try {
                limit = timeout == null ? Optional.empty() : Optional.of(parseDuration(timeout));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            if (count != null && count <= 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "-count must be positive");
            }
            AgentCli cli = root(spec);
            PrintWriter out = spec.commandLine().getOut();
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "bourne-agent-watch-timeout");
                t.setDaemon(true);
                return t;
            });
            Context.CancellableContext context = Context.current().withCancellation();
            Thread interrupted = new Thread(() -> context.cancel(null), "bourne-agent-watch-stop");
            Runtime.getRuntime().addShutdownHook(interrupted);
            try (WorkloadClient client = new WorkloadClient(cli.socket(Optional.ofNullable(socketPath)),
                    limit.orElse(Duration.ofSeconds(5)))) {
                limit.ifPresent(d -> timer.schedule(() -> context.cancel(null), d.toMillis(), TimeUnit.MILLISECONDS));
                Iterator<X509SVIDResponse> updates = client.watchX509(context);
                int seen = 0;
                while (updates.hasNext()) {
                    X509SVIDResponse update = updates.next();
                    seen++;
                    out.println("Update #" + seen + ": " + update.getSvidsCount() + " svid(s)");
                    printX509(out, update);
                    if (count != null && seen >= count) {
                        break;
                    }
                }
                return OK;
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.CANCELLED && context.isCancelled()) {
                    return OK;
                }
                throw e;
            } finally {
                context.cancel(null);
                timer.shutdownNow();
                try {
                    Runtime.getRuntime().removeShutdownHook(interrupted);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down (Ctrl-C): the hook is running
                }
            }
        }
    }
}

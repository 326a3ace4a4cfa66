package dev.bourne.appliance.cli;

import dev.bourne.core.systemd.JournalStream;
import dev.bourne.core.systemd.StopSignals;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code bourne-server} command line (ARCHITECTURE.md section 2), in SPIRE's shape with single-dash flags:
 * {@code run}, {@code validate}, {@code healthcheck} and the admin commands ({@code entry}, {@code agent},
 * {@code token}, {@code bundle}, {@code federation}, {@code x509}, {@code jwt}, {@code localauthority},
 * {@code tpm}) that call the server's admin API over its Unix socket. Exit codes: 0 success, 1 failure, 2 usage
 * error (a bad flag, refused before any call).
 */
@Command(name = "bourne-server", mixinStandardHelpOptions = true, version = "bourne-server 0.1.0",
        description = "The Bourne server: the trust domain's CA, registration and agent API.",
        subcommands = {ServerCommands.Run.class, ServerCommands.Validate.class, ServerCommands.Healthcheck.class,
            EntryCommands.class, AgentCommands.class, TokenCommands.class, BundleCommands.class,
            FederationCommands.class,
            MintCommands.X509.class, MintCommands.Jwt.class, LocalAuthorityCommands.class, TpmCommands.class})
public final class ServerCli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private final Map<String, String> env;
    private final Predicate<Path> exists;
    private final Clock clock;
    private final Supplier<StopSignals> stopSignals;

    /** The real process: environment, file system, clock, and SIGTERM/SIGINT handled by {@code run}. */
    public ServerCli() {
        this(System.getenv(), Files::exists, Clock.systemUTC(), StopSignals::install);
    }

    /**
     * For tests: a given environment, file existence check (socket discovery) and clock; {@code run} leaves the JVM's
     * signal handling alone (a test stops it with {@link StopSignals#request}).
     */
    public ServerCli(Map<String, String> env, Predicate<Path> exists, Clock clock) {
        this(env, exists, clock, StopSignals::manual);
    }

    /** For tests: as above, with {@code stop} as what ends {@code run} (the test calls {@link StopSignals#request}). */
    public ServerCli(Map<String, String> env, Predicate<Path> exists, Clock clock, StopSignals stop) {
        this(env, exists, clock, () -> stop);
    }

    private ServerCli(Map<String, String> env, Predicate<Path> exists, Clock clock,
            Supplier<StopSignals> stopSignals) {
        this.env = Map.copyOf(env);
        this.exists = exists;
        this.clock = clock;
        this.stopSignals = stopSignals;
    }

    StopSignals stopSignals() {
        return stopSignals.get();
    }

    Map<String, String> env() {
        return env;
    }

    Predicate<Path> exists() {
        return exists;
    }

    Clock clock() {
        return clock;
    }

    /** Runs the command line with {@code out} and {@code err} as the streams and returns its exit code. */
    public static int execute(ServerCli cli, PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(cli);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
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
        int code = execute(new ServerCli(), out, err, args);
        // A command-line tool's contract is its exit status (0/1/2); Java sets it only through System.exit.
        System.exit(code);
    }

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        // No subcommand: print usage, as SPIRE does, and report a usage error.
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    static String message(Throwable e) {
        if (e instanceof StatusRuntimeException sre) {
            return statusMessage(sre.getStatus());
        }
        String text = e.getMessage();
        return text == null || text.isEmpty() ? e.getClass().getSimpleName() : text;
    }

    static String statusMessage(Status status) {
        String description = status.getDescription() == null ? status.getCode().toString() : status.getDescription();
        return switch (status.getCode()) {
            case UNAVAILABLE -> permissionDenied(status.getCause())
                    ? "permission denied on the server's admin socket: run as root or as a member of group bourne"
                    : "the server's admin API is unavailable: " + description + rootCause(status.getCause());
            case DEADLINE_EXCEEDED -> "the server did not answer in time";
            case INVALID_ARGUMENT -> "invalid request: " + description;
            case NOT_FOUND -> "not found: " + description;
            case ALREADY_EXISTS -> "already exists: " + description;
            case FAILED_PRECONDITION -> "refused: " + description;
            case PERMISSION_DENIED, UNAUTHENTICATED -> "permission denied: " + description;
            default -> "the call failed: " + status.getCode() + ": " + description;
        };
    }

    /** Whether connecting failed with EACCES: the socket's directory or file refuses this user. */
    static boolean permissionDenied(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("Permission denied")) {
                return true;
            }
        }
        return false;
    }

    /** ": <the innermost cause's message>", or nothing when there is none worth adding. */
    private static String rootCause(Throwable cause) {
        Throwable root = cause;
        while (root != null && root.getCause() != null) {
            root = root.getCause();
        }
        return root == null || root.getMessage() == null || root.getMessage().isBlank() ? "" : " (" + root.getMessage() + ")";
    }
}

package dev.bourne.appliance.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A command that calls the admin API: finds the socket, checks its flags (a bad value is a usage error, exit 2, before
 * any call), connects, runs, and prints in the chosen {@code -output} format.
 */
abstract class AdminCommand implements Callable<Integer> {

    /** How results are printed: SPIRE's human layout, or JSON (proto field names) for scripts. */
    enum Output {
        PRETTY, JSON
    }

    @Spec
    CommandSpec spec;

    @Option(names = "-socketPath", paramLabel = "PATH",
            description = "Admin socket; default: $BOURNE_SERVER_SOCKET, else /run/bourne/server/private/api.sock or"
                    + " /tmp/bourne-server/private/api.sock, whichever exists")
    String socketPath;

    @Option(names = "-output", paramLabel = "pretty|json", defaultValue = "pretty",
            description = "Output format: pretty (default) or json")
    Output output;

    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence();

    @Override
    public final Integer call() throws Exception {
        check();
        load();
        ServerCli cli = (ServerCli) spec.root().userObject();
        Path socket = SocketDiscovery.find(Optional.ofNullable(socketPath), cli.env(), cli.exists());
        try (AdminClient client = new AdminClient(socket, AdminClient.DEFAULT_TIMEOUT)) {
            return run(client, spec.commandLine().getOut());
        }
    }

    /** Refuses bad flag combinations before any call: throw {@link #usage}. */
    void check() {
    }

    /**
     * Reads and checks the files the flags name, before the socket is looked for: a bad file is reported as itself
     * (throw {@link CliException}: exit 1), whether or not a server is running.
     */
    void load() throws Exception {
    }

    abstract int run(AdminClient client, PrintWriter out) throws Exception;

    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    boolean json() {
        return output == Output.JSON;
    }

    static String json(MessageOrBuilder message) {
        try {
            return JSON.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("admin API message cannot be printed as JSON", e);
        }
    }

    ServerCli cli() {
        return (ServerCli) spec.root().userObject();
    }
}

package dev.bourne.agent.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.function.Predicate;

/** One run of {@code bourne-agent} in the test JVM, with its exit code and what it printed. */
record CliRun(int code, String out, String err) {

    static CliRun run(Map<String, String> env, Predicate<Path> exists, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = AgentCli.execute(new AgentCli(env, exists, Clock.systemUTC()), new PrintWriter(out),
                new PrintWriter(err), args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** With no environment and no default socket, so only flags count. */
    static CliRun run(String... args) {
        return run(Map.of(), p -> false, args);
    }
}

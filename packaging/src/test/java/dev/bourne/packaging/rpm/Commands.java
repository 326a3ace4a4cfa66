package dev.bourne.packaging.rpm;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.testing.Exec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the packaging tools (each checked for first, so a missing one fails naming its package). */
final class Commands {
    private Commands() {
    }

    static Exec.Result run(PackagingTool tool, String... args) {
        return run(tool, Map.of(), args);
    }

    static Exec.Result run(PackagingTool tool, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>();
        command.add(tool.path().toString());
        command.addAll(List.of(args));
        return Exec.run(command, environment, Duration.ofMinutes(3));
    }

    static Exec.Result runOk(PackagingTool tool, String... args) {
        return run(tool, args).requireSuccess();
    }

    /** A program found by path (an installed launcher, sed, cp). */
    static Exec.Result run(Path program, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>();
        command.add(program.toString());
        command.addAll(List.of(args));
        return Exec.run(command, environment, Duration.ofMinutes(3));
    }
}

package dev.bourne.bench;

import static dev.bourne.bench.BenchArguments.printable;
import static dev.bourne.bench.BenchArguments.value;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the CA benchmarks and the raw PKCS#11 sign benchmark in one run, for each thread count, and prints every
 * result as a ratio to the raw sign rate of the same key type and thread count measured in that run. Started by
 * {@code bench/run}; see bench/README.md.
 */
public final class CaBench {
    private static final String RAW = RawSignBenchmark.class.getSimpleName() + ".sign";
    private static final String USAGE = """
            usage: bench/run [--threads 1,2] [--quick] [--include REGEX] [--out FILE]
              --threads  comma-separated thread counts, each 1..64 (default 1,2)
              --quick    shorter warm-up and measurement (a smoke run; numbers are noisier)
              --include  run only benchmarks whose name matches REGEX (the raw benchmark always runs)
              --out      also write the result table (Markdown) to FILE""";

    private CaBench() {
    }

    public static void main(String[] args) throws RunnerException, IOException {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println(USAGE);
            Runtime.getRuntime().halt(2);
            return;
        }
        List<Row> rows = new ArrayList<>();
        for (int threads : arguments.threads) {
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(RAW.replace(".", "\\."))
                    .threads(threads)
                    .forks(1)
                    .shouldFailOnError(true)
                    .timeUnit(TimeUnit.SECONDS)
                    // A handful of tokens per fork is plenty; the fixtures default to 24 for test classes.
                    .jvmArgsAppend("-Dbourne.softhsm.tokens=4",
                            "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED");
            if (arguments.include != null) {
                options.include(arguments.include);
            } else {
                options.include("dev\\.bourne\\.bench\\..*Benchmark\\..*");
            }
            if (arguments.quick) {
                options.warmupIterations(2).warmupTime(TimeValue.seconds(1))
                        .measurementIterations(3).measurementTime(TimeValue.seconds(1));
            } else {
                options.warmupIterations(3).warmupTime(TimeValue.seconds(2))
                        .measurementIterations(5).measurementTime(TimeValue.seconds(2));
            }
            Collection<RunResult> results = new Runner(options.build()).run();
            for (RunResult result : results) {
                String name = result.getParams().getBenchmark();
                String keyType = result.getParams().getParam("keyType");
                rows.add(new Row(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1),
                        keyType == null ? "-" : keyType, threads, result.getPrimaryResult().getScore(),
                        result.getPrimaryResult().getScoreError()));
            }
        }
        String table = table(rows);
        System.out.println();
        System.out.println(table);
        if (arguments.out != null) {
            Files.writeString(arguments.out, table, StandardCharsets.UTF_8);
        }
    }

    /** The results as a Markdown table, each with its ratio to the raw sign rate of its key type and threads. */
    static String table(List<Row> rows) {
        Map<String, Double> raw = new LinkedHashMap<>();
        for (Row row : rows) {
            if (row.benchmark.equals(RAW)) {
                raw.put(row.keyType + "/" + row.threads, row.score);
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("| benchmark | key type | threads | ops/s | error (99.9%) | ratio to raw sign |\n");
        out.append("|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            Double limit = raw.get(row.keyType + "/" + row.threads);
            String ratio = limit == null || limit == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", row.score / limit);
            out.append(String.format(Locale.ROOT, "| %s | %s | %d | %,.0f | %,.0f | %s |%n", row.benchmark,
                    row.keyType, row.threads, row.score, row.error, ratio));
        }
        return out.toString();
    }

    record Row(String benchmark, String keyType, int threads, double score, double error) {
    }

    /** Command-line arguments, each checked, with the error naming the argument. */
    static final class Arguments {
        final List<Integer> threads = new ArrayList<>();
        boolean quick;
        String include;
        Path out;

        static Arguments parse(String[] args) {
            Arguments parsed = new Arguments();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--quick" -> parsed.quick = true;
                    case "--threads" -> parsed.threads.addAll(threads(value(args, ++i, arg)));
                    case "--include" -> parsed.include = value(args, ++i, arg);
                    case "--out" -> parsed.out = Path.of(value(args, ++i, arg));
                    default -> throw new IllegalArgumentException("unknown argument '" + printable(arg) + "'");
                }
            }
            if (parsed.threads.isEmpty()) {
                parsed.threads.addAll(List.of(1, 2));
            }
            return parsed;
        }

        private static List<Integer> threads(String text) {
            List<Integer> counts = new ArrayList<>();
            for (String part : text.split(",", -1)) {
                int count;
                try {
                    count = Integer.parseInt(part.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--threads takes numbers such as 1,2, got '" + printable(text)
                            + "'");
                }
                if (count < 1 || count > 64) {
                    throw new IllegalArgumentException("--threads: each count must be 1..64, got " + count);
                }
                counts.add(count);
            }
            return counts;
        }
    }
}

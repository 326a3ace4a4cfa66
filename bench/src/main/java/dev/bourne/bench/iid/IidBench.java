package dev.bourne.bench.iid;

import static dev.bourne.bench.BenchArguments.number;
import static dev.bourne.bench.BenchArguments.printable;
import static dev.bourne.bench.BenchArguments.value;

import dev.bourne.bench.tpm.Throughput;
import dev.bourne.bench.workload.CpuMeter;
import dev.bourne.bench.workload.Latencies;
import dev.bourne.openstack.vendordata.VendordataServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenStack IID suite ({@code bench/run --suite iid}; bench/README.md): the server's
 * {@code OpenStackServerAttestor.attest} per second against raw ES256 verification of the same signatures, with its jti
 * ledger in the SQLite datastore and in memory; the signing service's {@code IidSigner.sign} per second on SoftHSM2
 * against the raw PKCS#11 ECDSA sign rate of the same token; all in the same interleaved rounds ({@link Throughput}),
 * every ratio computed inside a round. Then {@code POST /v1/iid} over HTTPS on loopback against a bare HTTPS round
 * trip to the same server. A plain harness in one JVM, as the {@code tpm} suite.
 */
public final class IidBench {
    static final String USAGE = """
            usage: bench/run --suite iid [--quick] [--rounds N] [--slice-ms MS] [--warmup-ms MS] [--requests N]
                                         [--server-nagle] [--out FILE]
              --rounds     rounds; every ratio is computed inside a round (default 10)
              --slice-ms   time each operation runs per round (default 500)
              --warmup-ms  time each operation runs before the first round, for the JIT (default 1500)
              --requests   timed HTTPS requests of each kind, POST /v1/iid and GET /live alternating, after a
                           fifth as many untimed; 0 skips the HTTPS measurement (default 1000)
              --server-nagle
                           leave Nagle's algorithm on in the signing service (sun.net.httpserver.nodelay=false,
                           the JDK HttpServer's default; the service sets TCP_NODELAY as shipped): shows the
                           delayed-ACK wait, about 40 ms per response on Linux, that the service avoids
              --quick      a smoke run: 1 round of 100 ms, 200 ms warm-up, 50 requests (numbers are noise)
              --out        also write the report (Markdown) to FILE""";

    /** The JDK HttpServer's switch for TCP_NODELAY on accepted connections (sun.net.httpserver.ServerConfig). */
    static final String NODELAY_PROPERTY = VendordataServer.NODELAY_PROPERTY;

    private IidBench() {
    }

    public static void main(String[] args) throws Exception {
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
        if (arguments.serverNagle) {
            // Read once, when the JDK's HttpServer is first used: set before anything starts one.
            System.setProperty(NODELAY_PROPERTY, "false");
        }
        Path scratch = Files.createTempDirectory("bourne-iid-bench-");
        try {
            String report = run(arguments, scratch);
            System.out.println();
            System.out.println(report);
            if (arguments.out != null) {
                Files.writeString(arguments.out, report, StandardCharsets.UTF_8);
            }
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** One whole run: the throughput rounds, then the HTTPS latencies; the report as Markdown. */
    static String run(Arguments arguments, Path scratch) throws Exception {
        CpuMeter cpu = new CpuMeter(Path.of("/proc"));
        try (SigningPhase signing = new SigningPhase(scratch); ServerPhase server = new ServerPhase(scratch)) {
            signing.start();
            Throughput throughput = new Throughput();
            server.addTo(throughput);
            signing.addTo(throughput);
            log(String.format(Locale.ROOT, "%d operations, %d rounds x %d ms after %d ms warm-up each",
                    throughput.names().size(), arguments.rounds, arguments.sliceMillis, arguments.warmupMillis));
            CpuMeter.Reading before = cpu.read();
            Throughput.Rates rates = throughput.measure(arguments.rounds, arguments.warmupMillis * 1_000_000L,
                    arguments.sliceMillis * 1_000_000L, 1_000_000);
            CpuMeter.Reading after = cpu.read();
            String roundsCpu = CpuMeter.describe(before, after);
            Map<String, Latencies> latencies = Map.of();
            String httpsCpu = "";
            if (arguments.requests > 0) {
                int warmup = Math.max(1, arguments.requests / 5);
                log("HTTPS on loopback: " + warmup + " untimed, then " + arguments.requests + " timed requests of each"
                        + " kind");
                before = cpu.read();
                latencies = HttpsPhase.run(signing, warmup, arguments.requests);
                httpsCpu = CpuMeter.describe(before, cpu.read());
            }
            return report(arguments, rates, roundsCpu, server.documentsSigned(), signing.signingInputBytes(),
                    latencies, httpsCpu);
        }
    }

    static String report(Arguments arguments, Throughput.Rates rates, String cpu, long documents,
            int signingInputBytes, Map<String, Latencies> latencies, String httpsCpu) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "## IID suite, %s: %d CPUs, Java %s%n%n", LocalDate.now(ZoneOffset.UTC),
                Runtime.getRuntime().availableProcessors(), Runtime.version()));
        out.append(String.format(Locale.ROOT, "### Throughput, one thread (%d rounds of %d ms; %s)%n%n",
                rates.rounds(), arguments.sliceMillis, cpu));
        out.append("| measurement | ops/s (median of rounds) | min-max | µs per op |\n|---|---|---|---|\n");
        for (Map.Entry<String, double[]> entry : rates.byName().entrySet()) {
            double[] r = entry.getValue();
            double median = Throughput.median(r);
            out.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f-%,.0f | %.1f |%n", entry.getKey(), median,
                    min(r), max(r), 1e6 / median));
        }
        out.append("\n| measurement | limit (operations, times summed) | ratio to limit, median of rounds (min-max) |"
                + "\n|---|---|---|\n");
        List<ServerPhase.Limit> limits = new ArrayList<>(ServerPhase.LIMITS);
        limits.addAll(SigningPhase.LIMITS);
        for (ServerPhase.Limit limit : limits) {
            double[] ratios = ratios(rates, limit);
            out.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%.2f-%.2f) |%n", limit.measurement(),
                    String.join(" + ", limit.limitOperations()), Throughput.median(ratios), min(ratios),
                    max(ratios)));
        }
        out.append(String.format(Locale.ROOT, "%n%,d documents signed for the server measurements (each attests "
                + "once); JWS signing input %d bytes.%n", documents, signingInputBytes));
        if (!latencies.isEmpty()) {
            String nodelay = Boolean.getBoolean(NODELAY_PROPERTY) ? "on (as shipped)" : "off (--server-nagle)";
            out.append(String.format(Locale.ROOT, "%n### HTTPS on loopback, one client, one kept-alive connection, "
                    + "server TCP_NODELAY %s (%s)%n%n", nodelay, httpsCpu));
            out.append("| request | samples | p50 µs | p90 µs | p99 µs | max µs |\n|---|---|---|---|---|---|\n");
            for (Map.Entry<String, Latencies> entry : latencies.entrySet()) {
                Latencies l = entry.getValue();
                out.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f | %.0f |%n", entry.getKey(),
                        l.count(), l.percentile(50) / 1e3, l.percentile(90) / 1e3, l.percentile(99) / 1e3,
                        l.max() / 1e3));
            }
            Latencies live = latencies.get(HttpsPhase.LIVE);
            Latencies iid = latencies.get(HttpsPhase.IID);
            out.append(String.format(Locale.ROOT, "%n| request | p50 / bare round trip p50 | p99 / bare round trip "
                    + "p99 |%n|---|---|---|%n| %s | %.2f | %.2f |%n", HttpsPhase.IID,
                    (double) iid.percentile(50) / live.percentile(50),
                    (double) iid.percentile(99) / live.percentile(99)));
        }
        return out.toString();
    }

    /** The measurement's rate over its limit's, per round; a limit of several operations is their times summed. */
    static double[] ratios(Throughput.Rates rates, ServerPhase.Limit limit) {
        double[] ratios = new double[rates.rounds()];
        for (int round = 0; round < rates.rounds(); round++) {
            double limitSeconds = 0;
            for (String operation : limit.limitOperations()) {
                limitSeconds += 1 / rates.of(operation)[round];
            }
            ratios[round] = rates.of(limit.measurement())[round] * limitSeconds;
        }
        return ratios;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(0);
    }

    private static double max(double[] values) {
        return Arrays.stream(values).max().orElse(0);
    }

    private static void log(String message) {
        System.err.println("bench: " + message);
    }

    /** Command-line arguments, each checked, with the error naming the argument. */
    static final class Arguments {
        int rounds = 10;
        long sliceMillis = 500;
        long warmupMillis = 1500;
        int requests = 1000;
        boolean serverNagle;
        Path out;

        static Arguments parse(String[] args) {
            Arguments parsed = new Arguments();
            boolean quick = false;
            List<String> explicit = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--quick" -> quick = true;
                    case "--rounds" -> parsed.rounds = number(value(args, ++i, arg), arg, 1, 100);
                    case "--slice-ms" -> parsed.sliceMillis = number(value(args, ++i, arg), arg, 10, 60_000);
                    case "--warmup-ms" -> parsed.warmupMillis = number(value(args, ++i, arg), arg, 0, 600_000);
                    case "--requests" -> parsed.requests = number(value(args, ++i, arg), arg, 0, 1_000_000);
                    case "--server-nagle" -> parsed.serverNagle = true;
                    case "--out" -> parsed.out = Path.of(value(args, ++i, arg));
                    default -> throw new IllegalArgumentException("unknown argument '" + printable(arg) + "'");
                }
                if (!arg.equals("--quick")) {
                    explicit.add(arg);
                }
            }
            if (quick) {
                // The smoke run's values, unless given explicitly.
                parsed.rounds = explicit.contains("--rounds") ? parsed.rounds : 1;
                parsed.sliceMillis = explicit.contains("--slice-ms") ? parsed.sliceMillis : 100;
                parsed.warmupMillis = explicit.contains("--warmup-ms") ? parsed.warmupMillis : 200;
                parsed.requests = explicit.contains("--requests") ? parsed.requests : 50;
            }
            return parsed;
        }
    }
}

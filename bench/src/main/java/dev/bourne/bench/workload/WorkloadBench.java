package dev.bourne.bench.workload;

import static dev.bourne.bench.BenchArguments.printable;
import static dev.bourne.bench.BenchArguments.value;

import dev.bourne.agent.workloadapi.WorkloadApiServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;

/**
 * The Workload API benchmark: the agent's real Workload API server on a Unix socket in a temporary directory, and in
 * the same process real gRPC clients over grpc-netty's epoll domain-socket transport. It times FetchX509SVID's first
 * response with 1 and with many concurrent clients, the delivery of an SVID rotation to many open watch streams, and,
 * in the same run, a bare Unix-socket round trip and a gRPC unary no-op over the same transport, and prints every
 * latency as a multiple of the bare round trip. Started by {@code bench/run --suite workload}; see bench/README.md.
 */
public final class WorkloadBench {
    static final String USAGE = """
            usage: bench/run --suite workload [--quick] [--clients 1,64] [--rounds 6] [--streams 1000]
                             [--streams-per-connection 1] [--rotations 100] [--out FILE]
              --quick                   fewer rounds, samples and rotations (a smoke run; numbers are noisier)
              --clients                 comma-separated concurrent client counts, each 1..256 (default 1,64);
                                        every client has its own connection and thread
              --rounds                  rounds, 1..100, each timing the bare round trip, the gRPC no-op and
                                        FetchX509SVID in turn, so all three see the same machine (default 6;
                                        3 with --quick)
              --streams                 open FetchX509SVID streams a rotation must reach, 1..5000 (default 1000)
              --streams-per-connection  streams multiplexed on one connection, 1..1000 (default 1: one connection
                                        per stream, as SPIFFE clients usually hold)
              --rotations               timed rotations, 1..1000 (default 100; 20 with --quick)
              --out                     also write the result tables (Markdown) to FILE""";

    private WorkloadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
            arguments.checkDescriptorLimit(Path.of("/proc/self/limits"));
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println(USAGE);
            Runtime.getRuntime().halt(2);
            return;
        }
        String report;
        Path dir = Files.createTempDirectory("bourne-wl");
        try {
            report = run(arguments, dir);
        } finally {
            deleteTree(dir);
        }
        System.out.println();
        System.out.println(report);
        if (arguments.out != null) {
            Files.writeString(arguments.out, report, StandardCharsets.UTF_8);
        }
    }

    /** The kinds of operation timed with each client count, in the order each round runs them. */
    enum Kind {
        BARE_UDS("bare UDS round trip"),
        GRPC_NOOP("gRPC unary no-op"),
        FETCH_X509_SVID("FetchX509SVID first response");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    static String run(Arguments arguments, Path dir) throws Exception {
        String loadBefore = loadAverage();
        CpuMeter meter = new CpuMeter(Path.of("/proc"));
        Map<Integer, String> cpu = new LinkedHashMap<>();
        String rotationCpu;
        Map<Integer, Map<Kind, List<Latencies>>> latency = new LinkedHashMap<>();
        List<RotationRun.Result> rotations;
        try (ClientTransport transport = new ClientTransport();
                BenchAgent agent = new BenchAgent(dir.resolve("agent/api.sock"));
                UdsEchoServer echo = new UdsEchoServer(dir.resolve("echo.sock"));
                WorkloadApiServer noop = agent.startOther(dir.resolve("noop/api.sock"), new NoopService())) {
            Map<Kind, LatencyRun.ProbeFactory> probes = new EnumMap<>(Kind.class);
            probes.put(Kind.BARE_UDS, i -> Probes.echo(echo.path()));
            probes.put(Kind.GRPC_NOOP, i -> Probes.noop(transport.connect(noop.socketPath())));
            probes.put(Kind.FETCH_X509_SVID, i -> Probes.fetchX509Svid(transport.connect(agent.socket())));
            for (int clients : arguments.clients) {
                boolean one = clients == 1;
                // The first round's warm-up also brings the JIT up to speed; later rounds only reconnect.
                int firstWarmup = one ? (arguments.quick ? 1_000 : 5_000) : (arguments.quick ? 20 : 50);
                int warmup = one ? 200 : 5;
                // Each kind runs for the same wall-clock slice in a round (the count is only a memory bound), so
                // the bare round trip is sampled over as long a stretch of the machine's weather as FetchX509SVID.
                int count = one ? 250_000 : 5_000;
                Duration limit = Duration.ofMillis(arguments.quick ? 500 : 1_500);
                Map<Kind, List<Latencies>> kinds = new EnumMap<>(Kind.class);
                CpuMeter.Reading start = meter.read();
                for (int round = 0; round < arguments.rounds; round++) {
                    for (Kind kind : Kind.values()) {
                        log("%d client(s), round %d of %d: %s", clients, round + 1, arguments.rounds, kind.label);
                        Latencies measured = LatencyRun.measure(clients, probes.get(kind),
                                round == 0 ? firstWarmup : warmup, count, limit);
                        log("  %,d samples, p50 %.1f µs, p99 %.1f µs", measured.count(),
                                micros(measured.percentile(50)), micros(measured.percentile(99)));
                        kinds.computeIfAbsent(kind, k -> new ArrayList<>()).add(measured);
                        transport.closeChannels();
                    }
                }
                latency.put(clients, kinds);
                cpu.put(clients, CpuMeter.describe(start, meter.read()));
            }
            log("rotation to %d streams over %d connection(s)", arguments.streams, arguments.connections());
            CpuMeter.Reading start = meter.read();
            rotations = RotationRun.run(agent, transport, arguments.streams, arguments.streamsPerConnection,
                    arguments.quick ? 2 : 3, arguments.rotations);
            rotationCpu = CpuMeter.describe(start, meter.read());
            transport.closeChannels();
        }
        return report(arguments, latency, cpu, rotations, rotationCpu, loadBefore);
    }

    static String report(Arguments arguments, Map<Integer, Map<Kind, List<Latencies>>> latency,
            Map<Integer, String> cpu, List<RotationRun.Result> rotations, String rotationCpu, String loadBefore) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Workload API latency: %d rounds, each timing the three in turn"
                + " (%d CPUs; load average before the run %s)%n%n", arguments.rounds,
                Runtime.getRuntime().availableProcessors(), loadBefore));
        out.append("| measurement | clients | samples | p50 µs | p99 µs | p50 µs per round, min-max"
                + " | p50 × bare UDS | p99 × bare UDS | p50 × gRPC no-op |\n");
        out.append("|---|---|---|---|---|---|---|---|---|\n");
        Latencies bareOne = null;
        for (Map.Entry<Integer, Map<Kind, List<Latencies>>> e : latency.entrySet()) {
            int clients = e.getKey();
            List<Latencies> bare = e.getValue().get(Kind.BARE_UDS);
            List<Latencies> grpc = e.getValue().get(Kind.GRPC_NOOP);
            if (clients == 1) {
                bareOne = Latencies.pooled(bare.toArray(new Latencies[0]));
            }
            for (Kind kind : Kind.values()) {
                List<Latencies> rounds = e.getValue().get(kind);
                Latencies all = Latencies.pooled(rounds.toArray(new Latencies[0]));
                long[] p50s = rounds.stream().mapToLong(l -> l.percentile(50)).sorted().toArray();
                out.append(String.format(Locale.ROOT, "| %s | %d | %,d | %.1f | %.1f | %.1f-%.1f | %s | %s | %s |%n",
                        kind.label, clients, all.count(), micros(all.percentile(50)), micros(all.percentile(99)),
                        micros(p50s[0]), micros(p50s[p50s.length - 1]), ratio(rounds, bare, 50),
                        ratio(rounds, bare, 99), ratio(rounds, grpc, 50)));
            }
        }
        out.append("\n");
        cpu.forEach((clients, use) -> out.append(String.format(Locale.ROOT, "While the %d-client rounds ran: %s.%n",
                clients, use)));
        out.append("Ratios: the median over rounds of (this p50 or p99) / (the baseline's in the same round), with"
                + " the rounds' lowest and highest in brackets.\n");
        out.append(String.format(Locale.ROOT, "%nSVID rotation to %d FetchX509SVID streams over %d connection(s)"
                + " (%d rotations; %s)%n%n", arguments.streams, arguments.connections(), rotations.size(),
                rotationCpu));
        out.append("| span | p50 ms | p99 ms | max ms | p50 × bare UDS p50 (1 client) |\n");
        out.append("|---|---|---|---|---|\n");
        rotationRow(out, "update() call to the last stream's new SVID", rotations, RotationRun.Result::toLast,
                bareOne);
        rotationRow(out, "update() call to the median stream's new SVID", rotations,
                RotationRun.Result::toMedianStream, bareOne);
        rotationRow(out, "update() call until it returned", rotations, RotationRun.Result::updateReturned, bareOne);
        return out.toString();
    }

    /** Per round, {@code rounds}' percentile over {@code base}'s: the median and, in brackets, the extremes. */
    private static String ratio(List<Latencies> rounds, List<Latencies> base, double percentile) {
        double[] ratios = new double[rounds.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = (double) rounds.get(i).percentile(percentile) / base.get(i).percentile(percentile);
        }
        Arrays.sort(ratios);
        double median = ratios.length % 2 == 1 ? ratios[ratios.length / 2]
                : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", median, ratios[0], ratios[ratios.length - 1]);
    }

    private static void rotationRow(StringBuilder out, String name, List<RotationRun.Result> rotations,
            ToLongFunction<RotationRun.Result> span, Latencies bareOne) {
        Latencies l = new Latencies(rotations.stream().mapToLong(span).toArray());
        String ratio = bareOne == null ? "n/a"
                : String.format(Locale.ROOT, "%,.0f", (double) l.percentile(50) / bareOne.percentile(50));
        out.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %s |%n", name, l.percentile(50) / 1e6,
                l.percentile(99) / 1e6, l.max() / 1e6, ratio));
    }

    private static double micros(long nanos) {
        return nanos / 1e3;
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).strip().split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            return "unknown";
        }
    }

    private static void log(String format, Object... values) {
        System.err.printf(Locale.ROOT, "# %s%n", String.format(Locale.ROOT, format, values));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Command-line arguments, each checked, with the error naming the argument. */
    static final class Arguments {
        static final String NEEDS_VALUE = dev.bourne.bench.BenchArguments.NEEDS_VALUE;
        static final String UNKNOWN = "unknown argument ";
        static final String NOT_A_NUMBER = " takes a number ";
        static final String OUT_OF_RANGE = ": must be ";
        static final String TOO_FEW_DESCRIPTORS = "file descriptors, the soft limit is ";

        final List<Integer> clients = new ArrayList<>();
        boolean quick;
        int streams = 1000;
        int streamsPerConnection = 1;
        int rotations = -1;
        int rounds = -1;
        Path out;

        static Arguments parse(String[] args) {
            Arguments parsed = new Arguments();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--quick" -> parsed.quick = true;
                    case "--clients" -> parsed.clients.addAll(counts(arg, value(args, ++i, arg), 1, 256));
                    case "--streams" -> parsed.streams = count(arg, value(args, ++i, arg), 1, 5000);
                    case "--streams-per-connection" ->
                        parsed.streamsPerConnection = count(arg, value(args, ++i, arg), 1, 1000);
                    case "--rotations" -> parsed.rotations = count(arg, value(args, ++i, arg), 1, 1000);
                    case "--rounds" -> parsed.rounds = count(arg, value(args, ++i, arg), 1, 100);
                    case "--out" -> parsed.out = Path.of(value(args, ++i, arg));
                    default -> throw new IllegalArgumentException(UNKNOWN + "'" + printable(arg) + "'");
                }
            }
            if (parsed.clients.isEmpty()) {
                parsed.clients.addAll(List.of(1, 64));
            }
            if (parsed.rounds < 0) {
                parsed.rounds = parsed.quick ? 3 : 6;
            }
            if (parsed.rotations < 0) {
                parsed.rotations = parsed.quick ? 20 : 100;
            }
            return parsed;
        }

        int connections() {
            return (streams + streamsPerConnection - 1) / streamsPerConnection;
        }

        /**
         * Every connection costs two descriptors in this process (client and server end), plus the JVM's own: refuse
         * to start a run that would die of EMFILE half-way.
         */
        void checkDescriptorLimit(Path limits) {
            int maxClients = clients.stream().mapToInt(Integer::intValue).max().orElse(1);
            long needed = 2L * Math.max(connections(), 2 * maxClients) + 256;
            long soft = softDescriptorLimit(limits);
            if (soft >= 0 && soft < needed) {
                throw new IllegalArgumentException("this run needs about " + needed + " " + TOO_FEW_DESCRIPTORS + soft
                        + ": raise it (ulimit -n) or pass --streams-per-connection");
            }
        }

        private static long softDescriptorLimit(Path limits) {
            try {
                for (String line : Files.readAllLines(limits)) {
                    if (line.startsWith("Max open files")) {
                        String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                        return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return -1; // unknown: let the run find out
            }
            return -1;
        }

        private static List<Integer> counts(String flag, String text, int min, int max) {
            List<Integer> counts = new ArrayList<>();
            for (String part : text.split(",", -1)) {
                counts.add(count(flag, part, min, max));
            }
            return counts;
        }

        private static int count(String flag, String text, int min, int max) {
            int count;
            try {
                count = Integer.parseInt(text.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(flag + NOT_A_NUMBER + min + ".." + max + ", got '"
                        + printable(text) + "'");
            }
            if (count < min || count > max) {
                throw new IllegalArgumentException(flag + OUT_OF_RANGE + min + ".." + max + ", got " + count);
            }
            return count;
        }
    }
}

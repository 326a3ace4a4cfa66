package dev.bourne.bench.tpm;

import static dev.bourne.bench.BenchArguments.number;
import static dev.bourne.bench.BenchArguments.printable;
import static dev.bourne.bench.BenchArguments.value;

import dev.bourne.bench.workload.CpuMeter;
import dev.bourne.bench.workload.Latencies;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.server.EkCaStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The TPM suite ({@code bench/run --suite tpm}; bench/README.md): server-side attestation checks per second with the
 * TPM out of the loop, against raw RSA-2048 and ECDSA P-256 verification and RSA-2048 OAEP encryption measured in the
 * same rounds, and the agent's attestation latency against swtpm beside the raw TPM commands' latency. A plain
 * harness rather than JMH: the evidence comes from one swtpm recorded once per run, and JMH's forks would each need
 * their own TPM.
 */
public final class TpmBench {
    static final String USAGE = """
            usage: bench/run --suite tpm [--quick] [--rounds N] [--slice-ms MS] [--warmup-ms MS] [--samples N]
                                         [--cold N] [--ek-cas DIR] [--out FILE]
              --rounds     server rounds; every ratio is computed inside a round (default 5)
              --slice-ms   time each server operation runs per round (default 1000)
              --warmup-ms  time each server operation runs before the first round, for the JIT (default 1500)
              --samples    agent attestations, renewals and raw TPM commands timed per AK type (default 200)
              --cold       first attestations after opening the TPM, per AK type (default 10)
              --ek-cas     the manufacturer EK CA certificates for ek_trust "ca" (default: shared/testdata/tpm/
                           vendor-ek-ca beside the repository, found by walking up from the working directory)
              --quick      a smoke run: 1 round of 100 ms, 200 ms warm-up, 8 samples, 2 cold (numbers are noise)
              --out        also write the report (Markdown) to FILE""";

    private TpmBench() {
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
        Path scratch = Files.createTempDirectory("bourne-tpm-bench-");
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

    /** One whole run: swtpm phase, then the server rounds; the report as Markdown. */
    static String run(Arguments arguments, Path scratch) throws Exception {
        Path vendorCas = arguments.ekCas != null ? arguments.ekCas : findVendorCas(Path.of("").toAbsolutePath());
        EkCaStore vendor = EkCaStore.load(List.of(vendorCas), Clock.systemUTC());
        if (vendor.isEmpty() || !vendor.problems().isEmpty()) {
            throw new IllegalStateException("the EK CA certificates in " + vendorCas + " do not all load: "
                    + vendor.problems());
        }
        List<X509Certificate> cas = new ArrayList<>(vendor.certificates());
        SwtpmPhase.Result tpm;
        long started = System.nanoTime();
        try (Swtpm swtpm = Swtpm.start()) {
            cas.add(swtpm.localCaCertificates().root());
            cas.add(swtpm.localCaCertificates().issuer());
            swtpm.disconnect();
            log("swtpm on 127.0.0.1:" + swtpm.dataPort() + ": " + arguments.samples + " attestations, renewals and"
                    + " raw commands per AK type, " + arguments.cold + " first attestations");
            tpm = new SwtpmPhase(swtpm, scratch).run(arguments.samples, arguments.cold);
            Recording ecc = tpm.recordings().get(AkType.ECC_P256);
            log("agent API: a Bourne server in this JVM, " + arguments.samples + " AttestAgent and RenewAgent round"
                    + " trips");
            tpm.latencies().putAll(AgentApiPhase.run(swtpm, scratch, ecc.ekHash, ecc.pcrValues,
                    arguments.samples));
        }
        log(String.format(Locale.ROOT, "swtpm phase done in %.1f s; server rounds: %d x %d ms after %d ms warm-up",
                (System.nanoTime() - started) / 1e9, arguments.rounds, arguments.sliceMillis,
                arguments.warmupMillis));
        CpuMeter cpu = new CpuMeter(Path.of("/proc"));
        CpuMeter.Reading before;
        CpuMeter.Reading after;
        Throughput.Rates rates;
        try (ServerPhase phase = new ServerPhase(tpm.recordings(), cas, vendorCas.toString(), scratch)) {
            Throughput server = phase.measurements();
            before = cpu.read();
            rates = server.measure(arguments.rounds, arguments.warmupMillis * 1_000_000L,
                    arguments.sliceMillis * 1_000_000L, 1_000_000);
            after = cpu.read();
        }
        return report(arguments, vendor.certificates().size(), rates, CpuMeter.describe(before, after),
                tpm.latencies());
    }

    static String report(Arguments arguments, int vendorCaCount, Throughput.Rates rates, String cpu,
            Map<String, Latencies> latencies) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "## TPM suite, %s: %d CPUs, Java %s%n%n", LocalDate.now(ZoneOffset.UTC),
                Runtime.getRuntime().availableProcessors(), Runtime.version()));
        out.append(String.format(Locale.ROOT, "### Server, one thread, TPM out of the loop (%d rounds of %d ms; "
                + "%s)%n%n", rates.rounds(), arguments.sliceMillis, cpu));
        out.append("| measurement | ops/s (median of rounds) | min-max | µs per op |\n|---|---|---|---|\n");
        for (Map.Entry<String, double[]> entry : rates.byName().entrySet()) {
            double[] r = entry.getValue();
            double median = Throughput.median(r);
            out.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f-%,.0f | %.1f |%n", entry.getKey(), median,
                    min(r), max(r), 1e6 / median));
        }
        out.append("\n| measurement | limit (raw operations, times summed) | ratio to limit, median of rounds "
                + "(min-max) |\n|---|---|---|\n");
        for (ServerPhase.Limit limit : ServerPhase.LIMITS) {
            double[] ratios = new double[rates.rounds()];
            for (int round = 0; round < rates.rounds(); round++) {
                double limitSeconds = 0;
                for (String raw : limit.rawOperations()) {
                    limitSeconds += 1 / rates.of(raw)[round];
                }
                ratios[round] = rates.of(limit.measurement())[round] * limitSeconds;
            }
            out.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%.2f-%.2f) |%n", limit.measurement(),
                    String.join(" + ", limit.rawOperations()), Throughput.median(ratios), min(ratios), max(ratios)));
        }
        out.append(String.format(Locale.ROOT, "%nek_trust ca: %d distinct manufacturer CA certificates plus swtpm's "
                + "root and issuer.%n%n", vendorCaCount));

        out.append("### Agent against swtpm (latency per operation)\n\n");
        out.append("| measurement | samples | p50 ms | p90 ms | max ms |\n|---|---|---|---|---|\n");
        for (Map.Entry<String, Latencies> entry : latencies.entrySet()) {
            Latencies l = entry.getValue();
            out.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.2f |%n", entry.getKey(), l.count(),
                    l.percentile(50) / 1e6, l.percentile(90) / 1e6, l.max() / 1e6));
        }
        out.append("\n| agent measurement | limit (p50s summed) | p50 / limit |\n|---|---|---|\n");
        for (String ak : List.of("ECC P-256 AK", "RSA-2048 AK")) {
            agentRatio(out, latencies, "agent: attestation, TPM open", ak, "raw credential activation",
                    "raw TPM2_Quote");
            agentRatio(out, latencies, "agent: renewal evidence", ak, "raw TPM2_Quote");
        }
        agentRatio(out, latencies, "agent API: AttestAgent", "ECC P-256 AK", "agent: attestation, TPM open");
        agentRatio(out, latencies, "agent API: RenewAgent", "ECC P-256 AK", "agent: renewal evidence");
        return out.toString();
    }

    private static void agentRatio(StringBuilder out, Map<String, Latencies> latencies, String measurement, String ak,
            String... limits) {
        Latencies measured = find(latencies, measurement, ak);
        double limit = 0;
        List<String> names = new ArrayList<>();
        for (String raw : limits) {
            limit += find(latencies, raw, ak).percentile(50);
            names.add(raw.replace("raw ", ""));
        }
        out.append(String.format(Locale.ROOT, "| %s, %s | %s | %.2f |%n", measurement, ak, String.join(" + ", names),
                measured.percentile(50) / limit));
    }

    private static Latencies find(Map<String, Latencies> latencies, String prefix, String ak) {
        return latencies.entrySet().stream().filter(e -> e.getKey().startsWith(prefix) && e.getKey().endsWith(ak))
                .map(Map.Entry::getValue).findFirst()
                .orElseThrow(() -> new IllegalStateException("no latency row " + prefix + " ... " + ak));
    }

    /** {@code shared/testdata/tpm/vendor-ek-ca} beside the repository, walking up from {@code start}. */
    static Path findVendorCas(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("testdata").resolve("tpm").resolve("vendor-ek-ca");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("shared/testdata/tpm/vendor-ek-ca not found beside the repository "
                + "(searched upwards from " + start + "); name a directory of EK CA certificates with --ek-cas");
    }

    private static double min(double[] values) {
        return Stream.of(values).flatMapToDouble(java.util.Arrays::stream).min().orElse(0);
    }

    private static double max(double[] values) {
        return Stream.of(values).flatMapToDouble(java.util.Arrays::stream).max().orElse(0);
    }

    private static void log(String message) {
        System.err.println("bench: " + message);
    }

    /** Command-line arguments, each checked, with the error naming the argument. */
    static final class Arguments {
        int rounds = 5;
        long sliceMillis = 1000;
        long warmupMillis = 1500;
        int samples = 200;
        int cold = 10;
        Path ekCas;
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
                    case "--samples" -> parsed.samples = number(value(args, ++i, arg), arg, 2, 100_000);
                    case "--cold" -> parsed.cold = number(value(args, ++i, arg), arg, 1, 10_000);
                    case "--ek-cas" -> parsed.ekCas = directory(value(args, ++i, arg), arg);
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
                parsed.samples = explicit.contains("--samples") ? parsed.samples : 8;
                parsed.cold = explicit.contains("--cold") ? parsed.cold : 2;
            }
            return parsed;
        }

        private static Path directory(String text, String flag) {
            Path path = Path.of(text);
            if (!Files.isDirectory(path)) {
                throw new IllegalArgumentException(flag + ": '" + printable(text) + "' is not a directory");
            }
            return path;
        }
    }
}

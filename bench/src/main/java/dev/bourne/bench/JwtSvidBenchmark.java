package dev.bourne.bench;

import dev.bourne.appliance.ca.IssuedJwtSvid;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** JWT-SVIDs per second through Bourne's CA, the JWT signing key on a SoftHSM2 token behind the pkcs11 key manager. */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JwtSvidBenchmark {

    @State(Scope.Benchmark)
    public static class Ca {
        @Param({"ec-p256", "rsa-2048"})
        public String keyType;

        HsmCa hsm;
        JwtSvidIssuer issuer;
        SpiffeId id;
        List<String> audience;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            hsm = HsmCa.start(HsmToken.keyType(keyType));
            issuer = new JwtSvidIssuer(HsmCa.TRUST_DOMAIN, Clock.systemUTC());
            id = SpiffeId.parse("spiffe://" + HsmCa.TRUST_DOMAIN.name() + "/workload/bench");
            audience = List.of("https://vault.example.org");
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            hsm.close();
        }
    }

    @Benchmark
    public IssuedJwtSvid issue(Ca ca) throws Exception {
        return ca.issuer.issue(ca.hsm.ca.activeJwtAuthority(), ca.id, ca.audience, Duration.ofMinutes(5),
                Optional.empty());
    }
}

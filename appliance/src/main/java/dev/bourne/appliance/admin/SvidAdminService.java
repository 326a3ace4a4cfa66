package dev.bourne.appliance.admin;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.JWTSVID;
import dev.bourne.api.v1.MintJWTSVIDRequest;
import dev.bourne.api.v1.MintJWTSVIDResponse;
import dev.bourne.api.v1.MintX509SVIDRequest;
import dev.bourne.api.v1.MintX509SVIDResponse;
import dev.bourne.api.v1.NewJWTSVIDRequest;
import dev.bourne.api.v1.NewJWTSVIDResponse;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.X509SVID;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CertificateRequests;
import dev.bourne.appliance.ca.IssuedJwtSvid;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.spiffeid.SpiffeId;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * The SVID service's admin RPCs: mint an X.509-SVID for a CSR (the SPIFFE ID and DNS names are the CSR's SANs) or a
 * JWT-SVID for any ID of the trust domain, without a registration entry, as SPIRE's {@code x509 mint} and
 * {@code jwt mint}. Workload issuance (BatchNewX509SVID, NewJWTSVID) belongs to the agent API.
 */
final class SvidAdminService extends SVIDGrpc.SVIDImplBase {
    static final String CSR_UNREADABLE = "is not a PKCS#10 certification request";
    static final String CSR_NO_URI = "must carry the SPIFFE ID as its one URI SAN";
    static final String TTL_NEGATIVE = "cannot be negative";
    static final String AGENT_API_ONLY = "served to agents on the agent API, not here";

    private final CaManager ca;
    private final ServerSettings settings;
    private final EntryValidator validator;
    private final X509SvidIssuer x509Issuer;
    private final JwtSvidIssuer jwtIssuer;

    SvidAdminService(CaManager ca, ServerSettings settings, Clock clock, SecureRandom random) {
        this.ca = ca;
        this.settings = settings;
        this.validator = new EntryValidator(settings.trustDomain(), settings.caTtl());
        this.x509Issuer = new X509SvidIssuer(settings.trustDomain(), clock, random);
        this.jwtIssuer = new JwtSvidIssuer(settings.trustDomain(), clock);
    }

    @Override
    public void mintX509SVID(MintX509SVIDRequest request, StreamObserver<MintX509SVIDResponse> observer) {
        AdminErrors.unary(observer, () -> {
            byte[] csr = request.getCsr().toByteArray();
            if (csr.length == 0) {
                throw new InvalidRequestException("csr", EntryValidator.REQUIRED);
            }
            if (csr.length > CertificateRequests.MAX_CSR_BYTES) {
                throw new InvalidRequestException("csr", CertificateRequests.TOO_LARGE);
            }
            Duration ttl = ttl(request.getTtl(), settings.defaultX509SvidTtl());
            Sans sans = sans(csr);
            // The issuer checks the CSR again in full (signature, key, URI SAN equal to the ID) before signing.
            IssuedX509Svid svid = x509Issuer.issue(ca.activeX509Authority(), csr, sans.id(), sans.dnsNames(), ttl);
            X509SVID.Builder b = X509SVID.newBuilder().setId(svid.spiffeId().toString())
                    .setExpiresAt(svid.notAfter().getEpochSecond());
            svid.chainDer().forEach(der -> b.addCertChain(ByteString.copyFrom(der)));
            return MintX509SVIDResponse.newBuilder().setSvid(b).build();
        });
    }

    private record Sans(SpiffeId id, List<String> dnsNames) {
    }

    private Sans sans(byte[] csr) throws InvalidRequestException {
        GeneralNames names;
        try {
            PKCS10CertificationRequest request = new PKCS10CertificationRequest(csr);
            Extensions extensions = null;
            for (Attribute attribute : request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                if (attribute.getAttrValues().size() > 0) {
                    extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
                }
            }
            names = extensions == null ? null : GeneralNames.fromExtensions(extensions,
                    Extension.subjectAlternativeName);
        } catch (java.io.IOException | RuntimeException e) {
            // Hostile DER makes BouncyCastle throw assorted runtime exceptions: all mean "not a CSR".
            throw new InvalidRequestException("csr", CSR_UNREADABLE);
        }
        SpiffeId id = null;
        List<String> dns = new ArrayList<>();
        if (names != null) {
            for (GeneralName name : names.getNames()) {
                if (name.getTagNo() == GeneralName.uniformResourceIdentifier) {
                    if (id != null) {
                        throw new InvalidRequestException("csr", CSR_NO_URI);
                    }
                    id = AdminProtos.spiffeId("csr", name.getName().toString());
                } else if (name.getTagNo() == GeneralName.dNSName) {
                    dns.add(name.getName().toString());
                }
            }
        }
        if (id == null) {
            throw new InvalidRequestException("csr", CSR_NO_URI);
        }
        validator.inTrustDomain("csr", id);
        EntryValidator.dnsNames(dns);
        return new Sans(id, dns);
    }

    @Override
    public void mintJWTSVID(MintJWTSVIDRequest request, StreamObserver<MintJWTSVIDResponse> observer) {
        AdminErrors.unary(observer, () -> {
            SpiffeId id = AdminProtos.spiffeId("id", request.getId());
            validator.inTrustDomain("id", id);
            if (request.getAudienceCount() == 0) {
                throw new InvalidRequestException("audience", EntryValidator.REQUIRED);
            }
            Duration ttl = ttl(request.getTtl(), settings.defaultJwtSvidTtl());
            IssuedJwtSvid svid = jwtIssuer.issue(ca.activeJwtAuthority(), id, request.getAudienceList(), ttl,
                    settings.jwtIssuer());
            return MintJWTSVIDResponse.newBuilder().setSvid(JWTSVID.newBuilder().setToken(svid.token())
                    .setId(svid.spiffeId().toString()).setIssuedAt(svid.issuedAt().getEpochSecond())
                    .setExpiresAt(svid.expiresAt().getEpochSecond())).build();
        });
    }

    private Duration ttl(int seconds, Duration defaultTtl) throws InvalidRequestException {
        if (seconds < 0) {
            throw new InvalidRequestException("ttl", TTL_NEGATIVE);
        }
        if (seconds == 0) {
            return defaultTtl;
        }
        Duration ttl = Duration.ofSeconds(seconds);
        validator.ttl("ttl", ttl);
        return ttl;
    }

    @Override
    public void batchNewX509SVID(BatchNewX509SVIDRequest request, StreamObserver<BatchNewX509SVIDResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("BatchNewX509SVID is " + AGENT_API_ONLY)
                .asRuntimeException());
    }

    @Override
    public void newJWTSVID(NewJWTSVIDRequest request, StreamObserver<NewJWTSVIDResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("NewJWTSVID is " + AGENT_API_ONLY)
                .asRuntimeException());
    }
}

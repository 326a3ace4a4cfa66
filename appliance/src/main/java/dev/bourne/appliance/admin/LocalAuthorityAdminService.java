package dev.bourne.appliance.admin;

import dev.bourne.api.v1.AuthorityIdRequest;
import dev.bourne.api.v1.AuthorityResponse;
import dev.bourne.api.v1.AuthorityStateResponse;
import dev.bourne.api.v1.GetJWTAuthorityStateRequest;
import dev.bourne.api.v1.GetX509AuthorityStateRequest;
import dev.bourne.api.v1.LocalAuthorityGrpc;
import dev.bourne.api.v1.PrepareJWTAuthorityRequest;
import dev.bourne.api.v1.PrepareX509AuthorityRequest;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaSnapshot;
import io.grpc.stub.StreamObserver;

/**
 * The LocalAuthority service: the state of the server's X.509 CAs and JWT keys, and the manual prepare, activate,
 * taint and revoke operations of {@link CaManager}, whose refusals come back as failed preconditions.
 */
final class LocalAuthorityAdminService extends LocalAuthorityGrpc.LocalAuthorityImplBase {
    static final int MAX_AUTHORITY_ID_LENGTH = 128;
    static final String AUTHORITY_ID_TOO_LONG = "is longer than " + MAX_AUTHORITY_ID_LENGTH + " characters";

    private final CaManager ca;

    LocalAuthorityAdminService(CaManager ca) {
        this.ca = ca;
    }

    @Override
    public void getX509AuthorityState(GetX509AuthorityStateRequest request,
            StreamObserver<AuthorityStateResponse> observer) {
        AdminErrors.unary(observer, () -> {
            CaSnapshot snapshot = ca.snapshot();
            AuthorityStateResponse.Builder b = AuthorityStateResponse.newBuilder();
            snapshot.x509Authorities().forEach(r -> b.addStates(AdminProtos.toProto(r)));
            return b.build();
        });
    }

    @Override
    public void prepareX509Authority(PrepareX509AuthorityRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.prepareX509())));
    }

    @Override
    public void activateX509Authority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.activateX509(id(request)))));
    }

    @Override
    public void taintX509Authority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.taintX509(id(request)))));
    }

    @Override
    public void revokeX509Authority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.revokeX509(id(request)))));
    }

    @Override
    public void getJWTAuthorityState(GetJWTAuthorityStateRequest request,
            StreamObserver<AuthorityStateResponse> observer) {
        AdminErrors.unary(observer, () -> {
            CaSnapshot snapshot = ca.snapshot();
            AuthorityStateResponse.Builder b = AuthorityStateResponse.newBuilder();
            snapshot.jwtAuthorities().forEach(r -> b.addStates(AdminProtos.toProto(r)));
            return b.build();
        });
    }

    @Override
    public void prepareJWTAuthority(PrepareJWTAuthorityRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.prepareJwt())));
    }

    @Override
    public void activateJWTAuthority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.activateJwt(id(request)))));
    }

    @Override
    public void taintJWTAuthority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.taintJwt(id(request)))));
    }

    @Override
    public void revokeJWTAuthority(AuthorityIdRequest request, StreamObserver<AuthorityResponse> observer) {
        AdminErrors.unary(observer, () -> response(AdminProtos.toProto(ca.revokeJwt(id(request)))));
    }

    private static String id(AuthorityIdRequest request) throws InvalidRequestException {
        String id = request.getAuthorityId();
        if (id.isEmpty()) {
            throw new InvalidRequestException("authority_id", EntryValidator.REQUIRED);
        }
        if (id.length() > MAX_AUTHORITY_ID_LENGTH) {
            throw new InvalidRequestException("authority_id", AUTHORITY_ID_TOO_LONG);
        }
        return id;
    }

    private static AuthorityResponse response(dev.bourne.api.v1.AuthorityState state) {
        return AuthorityResponse.newBuilder().setAuthority(state).build();
    }
}

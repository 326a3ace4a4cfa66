package dev.bourne.appliance.cli;

import dev.bourne.api.v1.AuthorityIdRequest;
import dev.bourne.api.v1.AuthorityResponse;
import dev.bourne.api.v1.AuthorityState;
import dev.bourne.api.v1.AuthorityStateResponse;
import dev.bourne.api.v1.GetJWTAuthorityStateRequest;
import dev.bourne.api.v1.GetX509AuthorityStateRequest;
import dev.bourne.api.v1.LocalAuthorityGrpc.LocalAuthorityBlockingStub;
import dev.bourne.api.v1.PrepareJWTAuthorityRequest;
import dev.bourne.api.v1.PrepareX509AuthorityRequest;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bourne-server localauthority x509|jwt show|prepare|activate|taint|revoke}: the server's own X.509 CAs and
 * JWT signing keys through their life, as SPIRE's. The same command classes serve both kinds; the parent command's
 * name says which.
 */
@Command(name = "localauthority", description = "Manage the server's local authorities",
        subcommands = {LocalAuthorityCommands.X509.class, LocalAuthorityCommands.Jwt.class})
final class LocalAuthorityCommands {
    static final String AUTHORITY_ID_REQUIRED = "-authorityID is required";

    private LocalAuthorityCommands() {
    }

    @Command(name = "x509", description = "X.509 authorities (CA certificates)",
            subcommands = {Show.class, Prepare.class, Activate.class, Taint.class, Revoke.class})
    static final class X509 {
    }

    @Command(name = "jwt", description = "JWT authorities (signing keys)",
            subcommands = {Show.class, Prepare.class, Activate.class, Taint.class, Revoke.class})
    static final class Jwt {
    }

    /** A local authority command; knows whether it is under {@code x509} or {@code jwt}. */
    abstract static class AuthorityCommand extends AdminCommand {
        boolean x509() {
            return spec.parent().name().equals("x509");
        }

        String kind() {
            return x509() ? "X.509" : "JWT";
        }

        int print(PrintWriter out, String heading, AuthorityResponse response) {
            if (json()) {
                out.println(json(response));
            } else {
                out.println(heading + " " + kind() + " authority:");
                authority(out, response.getAuthority());
            }
            return ServerCli.OK;
        }

        static void authority(PrintWriter out, AuthorityState state) {
            out.println("  Authority ID: " + state.getAuthorityId());
            out.println("  Expires at: " + Pretty.time(state.getExpiresAt()));
            out.println("  Slot: " + state.getSlot());
            if (state.getTainted()) {
                out.println("  Tainted: true");
            }
        }
    }

    /** A command that names one authority with {@code -authorityID}. */
    abstract static class OneAuthority extends AuthorityCommand {
        @Option(names = "-authorityID", paramLabel = "ID",
                description = "The authority: the CA's subject key ID (X.509) or the key ID (JWT)")
        String authorityId;

        @Override
        void check() {
            if (authorityId == null || authorityId.isEmpty()) {
                throw usage(AUTHORITY_ID_REQUIRED);
            }
        }

        AuthorityIdRequest request() {
            return AuthorityIdRequest.newBuilder().setAuthorityId(authorityId).build();
        }
    }

    @Command(name = "show", description = "Show the authorities and their states")
    static final class Show extends AuthorityCommand {
        @Override
        int run(AdminClient client, PrintWriter out) {
            LocalAuthorityBlockingStub stub = client.localAuthority();
            AuthorityStateResponse response = x509()
                    ? stub.getX509AuthorityState(GetX509AuthorityStateRequest.getDefaultInstance())
                    : stub.getJWTAuthorityState(GetJWTAuthorityStateRequest.getDefaultInstance());
            if (json()) {
                out.println(json(response));
                return ServerCli.OK;
            }
            for (String state : List.of("active", "prepared", "old", "retired")) {
                List<AuthorityState> matching = response.getStatesList().stream()
                        .filter(s -> s.getState().equals(state)).toList();
                if (matching.isEmpty() && state.equals("retired")) {
                    continue;
                }
                out.println(Character.toUpperCase(state.charAt(0)) + state.substring(1) + " " + kind()
                        + " authority:");
                if (matching.isEmpty()) {
                    out.println("  No " + state + " " + kind() + " authority found");
                }
                matching.forEach(s -> authority(out, s));
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "prepare", description = "Prepare the next authority (published, not yet signing)")
    static final class Prepare extends AuthorityCommand {
        @Override
        int run(AdminClient client, PrintWriter out) {
            LocalAuthorityBlockingStub stub = client.localAuthority();
            return print(out, "Prepared", x509()
                    ? stub.prepareX509Authority(PrepareX509AuthorityRequest.getDefaultInstance())
                    : stub.prepareJWTAuthority(PrepareJWTAuthorityRequest.getDefaultInstance()));
        }
    }

    @Command(name = "activate", description = "Activate the prepared authority")
    static final class Activate extends OneAuthority {
        @Override
        int run(AdminClient client, PrintWriter out) {
            LocalAuthorityBlockingStub stub = client.localAuthority();
            return print(out, "Activated", x509() ? stub.activateX509Authority(request())
                    : stub.activateJWTAuthority(request()));
        }
    }

    @Command(name = "taint", description = "Taint an old authority: agents rotate away from what it signed")
    static final class Taint extends OneAuthority {
        @Override
        int run(AdminClient client, PrintWriter out) {
            LocalAuthorityBlockingStub stub = client.localAuthority();
            return print(out, "Tainted", x509() ? stub.taintX509Authority(request())
                    : stub.taintJWTAuthority(request()));
        }
    }

    @Command(name = "revoke", description = "Revoke a tainted authority: it leaves the bundle")
    static final class Revoke extends OneAuthority {
        @Override
        int run(AdminClient client, PrintWriter out) {
            LocalAuthorityBlockingStub stub = client.localAuthority();
            return print(out, "Revoked", x509() ? stub.revokeX509Authority(request())
                    : stub.revokeJWTAuthority(request()));
        }
    }
}

package dev.bourne.appliance.cli;

import dev.bourne.api.v1.CreateJoinTokenRequest;
import dev.bourne.api.v1.JoinToken;
import dev.bourne.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bourne-server token generate}: a one-time join token for an agent, as SPIRE's. */
@Command(name = "token", description = "Manage join tokens", subcommands = TokenCommands.Generate.class)
final class TokenCommands {
    static final String TTL_NOT_POSITIVE = "-ttl must be at least 1 second";
    static final String TTL_TOO_LONG = "-ttl must be at most 30 days";

    private TokenCommands() {
    }

    @Command(name = "generate", description = "Generate a join token")
    static final class Generate extends AdminCommand {
        @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class,
                description = "Also register this ID as an alias of the agent that attests with the token")
        SpiffeId spiffeId;

        @Option(names = "-ttl", paramLabel = "TTL", converter = Flags.Ttl.class, defaultValue = "600",
                description = "How long the token stays valid (seconds or a duration; default 600)")
        Duration ttl;

        @Override
        void check() {
            if (ttl.isZero()) {
                throw usage(TTL_NOT_POSITIVE);
            }
            if (ttl.compareTo(Duration.ofDays(30)) > 0) {
                throw usage(TTL_TOO_LONG);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            CreateJoinTokenRequest.Builder request = CreateJoinTokenRequest.newBuilder()
                    .setTtl((int) ttl.getSeconds());
            if (spiffeId != null) {
                request.setAgentId(spiffeId.toString());
            }
            JoinToken token = client.agents().createJoinToken(request.build());
            if (json()) {
                out.println(json(token));
            } else {
                out.println("Token: " + token.getValue());
            }
            return ServerCli.OK;
        }
    }
}

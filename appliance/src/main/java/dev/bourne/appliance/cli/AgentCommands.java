package dev.bourne.appliance.cli;

import dev.bourne.api.v1.AttestedAgent;
import dev.bourne.api.v1.BanAgentRequest;
import dev.bourne.api.v1.CountAgentsRequest;
import dev.bourne.api.v1.CountAgentsResponse;
import dev.bourne.api.v1.DeleteAgentRequest;
import dev.bourne.api.v1.GetAgentRequest;
import dev.bourne.api.v1.ListAgentsRequest;
import dev.bourne.api.v1.ListAgentsResponse;
import dev.bourne.core.spiffeid.SpiffeId;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bourne-server agent list|show|count|evict|ban}: attested agents, as SPIRE's. */
@Command(name = "agent", description = "Manage attested agents",
        subcommands = {AgentCommands.ListAgents.class, AgentCommands.Show.class, AgentCommands.Count.class,
            AgentCommands.Evict.class, AgentCommands.Ban.class})
final class AgentCommands {
    static final String SPIFFE_ID_REQUIRED = "-spiffeID is required";
    static final int PAGE_SIZE = 500;

    private AgentCommands() {
    }

    /** A command about one agent, named by {@code -spiffeID}. */
    abstract static class OneAgent extends AdminCommand {
        @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class, description = "The agent's ID")
        SpiffeId spiffeId;

        @Override
        void check() {
            if (spiffeId == null) {
                throw usage(SPIFFE_ID_REQUIRED);
            }
        }
    }

    @Command(name = "list", description = "List attested agents")
    static final class ListAgents extends AdminCommand {
        @Option(names = "-attestationType", paramLabel = "TYPE", description = "Only agents attested by this type")
        String attestationType;

        @Option(names = "-banned", arity = "0..1", description = "Only banned (true) or only not banned (false)")
        Boolean banned;

        @Override
        int run(AdminClient client, PrintWriter out) {
            ListAgentsRequest.Filter.Builder filter = ListAgentsRequest.Filter.newBuilder();
            if (attestationType != null) {
                filter.setByAttestationType(attestationType);
            }
            if (banned != null) {
                filter.setByBanned(banned ? 1 : 2);
            }
            List<AttestedAgent> agents = new ArrayList<>();
            String token = "";
            do {
                ListAgentsResponse page = client.agents().listAgents(ListAgentsRequest.newBuilder().setFilter(filter)
                        .setPageSize(PAGE_SIZE).setPageToken(token).build());
                agents.addAll(page.getAgentsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            if (json()) {
                out.println(json(ListAgentsResponse.newBuilder().addAllAgents(agents).build()));
                return ServerCli.OK;
            }
            if (agents.isEmpty()) {
                out.println("No attested agents found");
                return ServerCli.OK;
            }
            out.println("Found " + agents.size() + " attested " + (agents.size() == 1 ? "agent" : "agents") + ":");
            out.println();
            agents.forEach(a -> Pretty.agent(out, a));
            return ServerCli.OK;
        }
    }

    @Command(name = "show", description = "Show an attested agent")
    static final class Show extends OneAgent {
        @Override
        int run(AdminClient client, PrintWriter out) {
            AttestedAgent agent = client.agents().getAgent(GetAgentRequest.newBuilder()
                    .setId(spiffeId.toString()).build());
            if (json()) {
                out.println(json(agent));
            } else {
                out.println("Found an attested agent given its SPIFFE ID");
                out.println();
                Pretty.agent(out, agent);
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "count", description = "Count attested agents")
    static final class Count extends AdminCommand {
        @Override
        int run(AdminClient client, PrintWriter out) {
            CountAgentsResponse response = client.agents().countAgents(CountAgentsRequest.getDefaultInstance());
            if (json()) {
                out.println(json(response));
            } else {
                out.println(response.getCount() + " attested " + (response.getCount() == 1 ? "agent" : "agents"));
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "evict", description = "Evict an agent: it must attest again")
    static final class Evict extends OneAgent {
        @Override
        int run(AdminClient client, PrintWriter out) {
            client.agents().deleteAgent(DeleteAgentRequest.newBuilder().setId(spiffeId.toString()).build());
            out.println(json() ? "{}" : "Agent evicted successfully");
            return ServerCli.OK;
        }
    }

    @Command(name = "ban", description = "Ban an agent: it can neither renew nor attest until evicted")
    static final class Ban extends OneAgent {
        @Override
        int run(AdminClient client, PrintWriter out) {
            client.agents().banAgent(BanAgentRequest.newBuilder().setId(spiffeId.toString()).build());
            out.println(json() ? "{}" : "Agent banned successfully");
            return ServerCli.OK;
        }
    }
}

package dev.bourne.appliance.admin;

import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.AttestedAgent;
import dev.bourne.api.v1.BanAgentRequest;
import dev.bourne.api.v1.BanAgentResponse;
import dev.bourne.api.v1.CountAgentsRequest;
import dev.bourne.api.v1.CountAgentsResponse;
import dev.bourne.api.v1.CreateJoinTokenRequest;
import dev.bourne.api.v1.DeleteAgentRequest;
import dev.bourne.api.v1.DeleteAgentResponse;
import dev.bourne.api.v1.GetAgentRequest;
import dev.bourne.api.v1.JoinToken;
import dev.bourne.api.v1.ListAgentsRequest;
import dev.bourne.api.v1.ListAgentsResponse;
import dev.bourne.api.v1.NewRenewalChallengeRequest;
import dev.bourne.api.v1.NewRenewalChallengeResponse;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.RenewAgentResponse;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.NodeFilter;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The Agent service's admin RPCs: count, list, get, evict (delete) and ban attested agents, and create join tokens.
 * Attestation and renewal belong to the agent API the server serves over TLS.
 */
final class AgentAdminService extends AgentGrpc.AgentImplBase {
    static final String NOT_FOUND = "no agent with ID %s";
    static final String NOT_AN_AGENT = "must be an agent ID (spiffe://<trust domain>/spire/agent/...)";
    static final String TTL_NOT_POSITIVE = "must be at least 1 second";
    static final String TTL_TOO_LONG = "must be at most " + AdminLimits.MAX_JOIN_TOKEN_TTL.getSeconds() + " seconds";
    static final String TOKEN_INVALID = "must be 1 to " + Limits.MAX_JOIN_TOKEN_LENGTH
            + " characters of letters, digits, '-' and '_'";
    static final String BANNED_FILTER_INVALID = "must be 0 (any), 1 (banned) or 2 (not banned)";
    static final String ATTESTATION_TYPE_INVALID = "must be 1 to " + Limits.MAX_ATTESTATION_TYPE_LENGTH
            + " characters of letters, digits and '_'";
    static final String AGENT_API_ONLY = "served to agents on the agent API, not here";

    /** Random bytes in a generated join token: 128 bits, unguessable. */
    static final int TOKEN_BYTES = 16;

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1," + Limits.MAX_JOIN_TOKEN_LENGTH + "}");
    private static final Pattern ATTESTATION_TYPE = Pattern.compile("[A-Za-z0-9_]{1,"
            + Limits.MAX_ATTESTATION_TYPE_LENGTH + "}");

    private final DataStore dataStore;
    private final EntryValidator validator;
    private final Clock clock;
    private final SecureRandom random;

    AgentAdminService(DataStore dataStore, EntryValidator validator, Clock clock, SecureRandom random) {
        this.dataStore = dataStore;
        this.validator = validator;
        this.clock = clock;
        this.random = random;
    }

    @Override
    public void countAgents(CountAgentsRequest request, StreamObserver<CountAgentsResponse> observer) {
        AdminErrors.unary(observer, () -> CountAgentsResponse.newBuilder()
                .setCount((int) Math.min(Integer.MAX_VALUE, dataStore.countNodes(NodeFilter.all()))).build());
    }

    @Override
    public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsResponse> observer) {
        AdminErrors.unary(observer, () -> {
            NodeFilter filter = NodeFilter.all();
            ListAgentsRequest.Filter f = request.getFilter();
            if (!f.getByAttestationType().isEmpty()) {
                if (!ATTESTATION_TYPE.matcher(f.getByAttestationType()).matches()) {
                    throw new InvalidRequestException("filter.by_attestation_type", ATTESTATION_TYPE_INVALID);
                }
                filter = filter.withAttestationDataType(f.getByAttestationType());
            }
            filter = switch (f.getByBanned()) {
                case 0 -> filter;
                case 1 -> filter.withBanned(true);
                case 2 -> filter.withBanned(false);
                default -> throw new InvalidRequestException("filter.by_banned", BANNED_FILTER_INVALID);
            };
            PageRequest page = AdminLimits.page(request.getPageSize(), request.getPageToken());
            Page<AttestedNode> result = dataStore.listNodes(filter, page);
            ListAgentsResponse.Builder b = ListAgentsResponse.newBuilder();
            result.items().forEach(n -> b.addAgents(AdminProtos.toProto(n)));
            result.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void getAgent(GetAgentRequest request, StreamObserver<AttestedAgent> observer) {
        AdminErrors.unary(observer, () -> {
            SpiffeId id = agentId(request.getId());
            return dataStore.getNode(id).map(AdminProtos::toProto)
                    .orElseThrow(() -> new UnknownResourceException(String.format(NOT_FOUND, id)));
        });
    }

    @Override
    public void deleteAgent(DeleteAgentRequest request, StreamObserver<DeleteAgentResponse> observer) {
        AdminErrors.unary(observer, () -> {
            dataStore.deleteNode(agentId(request.getId()));
            return DeleteAgentResponse.getDefaultInstance();
        });
    }

    @Override
    public void banAgent(BanAgentRequest request, StreamObserver<BanAgentResponse> observer) {
        AdminErrors.unary(observer, () -> {
            dataStore.banNode(agentId(request.getId()));
            return BanAgentResponse.getDefaultInstance();
        });
    }

    private SpiffeId agentId(String value) throws InvalidRequestException {
        SpiffeId id = AdminProtos.spiffeId("id", value);
        validator.inTrustDomain("id", id);
        if (!id.hasPathPrefix("spire", "agent") || id.segments().size() < 3) {
            throw new InvalidRequestException("id", NOT_AN_AGENT);
        }
        return id;
    }

    /**
     * Stores a join token valid for {@code ttl} seconds. With {@code agent_id}, also registers that ID as an alias of
     * the agent that will attest with the token, as SPIRE's {@code token generate -spiffeID} does.
     */
    @Override
    public void createJoinToken(CreateJoinTokenRequest request, StreamObserver<JoinToken> observer) {
        AdminErrors.unary(observer, () -> {
            if (request.getTtl() < 1) {
                throw new InvalidRequestException("ttl", TTL_NOT_POSITIVE);
            }
            if (request.getTtl() > AdminLimits.MAX_JOIN_TOKEN_TTL.getSeconds()) {
                throw new InvalidRequestException("ttl", TTL_TOO_LONG);
            }
            String token = request.getToken();
            if (token.isEmpty()) {
                byte[] bytes = new byte[TOKEN_BYTES];
                random.nextBytes(bytes);
                token = HexFormat.of().formatHex(bytes);
            } else if (!TOKEN.matcher(token).matches()) {
                throw new InvalidRequestException("token", TOKEN_INVALID);
            }
            RegistrationEntry alias = null;
            if (!request.getAgentId().isEmpty()) {
                SpiffeId aliasId = AdminProtos.spiffeId("agent_id", request.getAgentId());
                validator.workloadId("agent_id", aliasId);
                SpiffeId tokenAgent = SpiffeId.of(validator.trustDomain(), "spire", "agent", "join_token", token);
                alias = RegistrationEntry.builder().spiffeId(aliasId).parentId(tokenAgent)
                        .selectors(List.of(new Selector("spiffe_id", tokenAgent.toString()))).build();
            }
            Instant expiresAt = clock.instant().plus(Duration.ofSeconds(request.getTtl()));
            dataStore.createJoinToken(token, expiresAt);
            if (alias != null) {
                dataStore.createEntry(alias);
            }
            return JoinToken.newBuilder().setValue(token).setExpiresAt(expiresAt.getEpochSecond()).build();
        });
    }

    @Override
    public io.grpc.stub.StreamObserver<AttestAgentRequest> attestAgent(StreamObserver<AttestAgentResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("AttestAgent is " + AGENT_API_ONLY)
                .asRuntimeException());
        return new StreamObserver<>() {
            @Override
            public void onNext(AttestAgentRequest value) {
                // The call already ended; nothing to do with further messages.
            }

            @Override
            public void onError(Throwable t) {
                // The call already ended.
            }

            @Override
            public void onCompleted() {
                // The call already ended.
            }
        };
    }

    @Override
    public void newRenewalChallenge(NewRenewalChallengeRequest request,
            StreamObserver<NewRenewalChallengeResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("NewRenewalChallenge is " + AGENT_API_ONLY)
                .asRuntimeException());
    }

    @Override
    public void renewAgent(RenewAgentRequest request, StreamObserver<RenewAgentResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription("RenewAgent is " + AGENT_API_ONLY)
                .asRuntimeException());
    }
}

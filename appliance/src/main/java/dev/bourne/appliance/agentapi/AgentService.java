package dev.bourne.appliance.agentapi;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.NewRenewalChallengeRequest;
import dev.bourne.api.v1.NewRenewalChallengeResponse;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.RenewAgentResponse;
import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.ChallengeChannel;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent API's {@code Agent} service on TCP: {@code AttestAgent} (a bidi stream: params first, then any
 * challenge/response rounds the attestor needs, then the agent SVID), {@code NewRenewalChallenge} and
 * {@code RenewAgent} (continuous attestation, then renewal). The admin RPCs of this service are not served here; they
 * answer UNIMPLEMENTED.
 */
final class AgentService extends AgentGrpc.AgentImplBase {
    static final Duration CHALLENGE_TIMEOUT = Duration.ofSeconds(60);

    static final String FIRST_MESSAGE_NOT_PARAMS = "the first AttestAgent message must be params";
    static final String UNEXPECTED_MESSAGE = "unexpected AttestAgent message: no challenge is pending";
    static final String NO_RESPONSE = "the agent did not answer the attestation challenge in time";
    static final String STREAM_ENDED = "the agent ended the attestation stream";

    private final AgentAttestation attestation;
    private final ExecutorService executor;

    AgentService(AgentAttestation attestation, ExecutorService executor) {
        this.attestation = Objects.requireNonNull(attestation, "attestation");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    @Override
    public StreamObserver<AttestAgentRequest> attestAgent(StreamObserver<AttestAgentResponse> responses) {
        return new Conversation((ServerCallStreamObserver<AttestAgentResponse>) responses);
    }

    /** One attestation stream: the attestor runs on the executor and blocks on {@link #challenge} for answers. */
    private final class Conversation implements StreamObserver<AttestAgentRequest>, ChallengeChannel {
        private static final byte[] END = new byte[0];
        private final ServerCallStreamObserver<AttestAgentResponse> responses;
        private final BlockingQueue<byte[]> answers = new LinkedBlockingQueue<>(1);
        private final AtomicBoolean started = new AtomicBoolean();
        private volatile boolean awaitingAnswer;
        private volatile boolean finished;

        Conversation(ServerCallStreamObserver<AttestAgentResponse> responses) {
            this.responses = responses;
        }

        @Override
        public void onNext(AttestAgentRequest request) {
            if (finished) {
                return;
            }
            if (started.compareAndSet(false, true)) {
                if (request.getStepCase() != AttestAgentRequest.StepCase.PARAMS) {
                    fail(new ApiException(ApiException.Code.INVALID_ARGUMENT, FIRST_MESSAGE_NOT_PARAMS));
                    return;
                }
                AttestAgentRequest.Params params = request.getParams();
                try {
                    executor.execute(() -> run(params));
                } catch (RejectedExecutionException e) {
                    fail(new ApiException(ApiException.Code.UNAVAILABLE, "the server is shutting down"));
                }
                return;
            }
            if (request.getStepCase() != AttestAgentRequest.StepCase.CHALLENGE_RESPONSE || !awaitingAnswer
                    || !answers.offer(request.getChallengeResponse().toByteArray())) {
                fail(new ApiException(ApiException.Code.INVALID_ARGUMENT, UNEXPECTED_MESSAGE));
            }
        }

        private void run(AttestAgentRequest.Params params) {
            try {
                AgentAttestation.Attested result = attestation.attest(params.getData().getType(),
                        params.getData().getPayload().toByteArray(), params.getParams().getCsr().toByteArray(),
                        this);
                synchronized (this) {
                    if (finished) {
                        return;
                    }
                    finished = true;
                    responses.onNext(AttestAgentResponse.newBuilder().setResult(AttestAgentResponse.Result
                            .newBuilder().setSvid(AgentApiProtos.x509Svid(result.svid()))
                            .setReattestable(result.canReattest())).build());
                    responses.onCompleted();
                }
            } catch (Exception e) {
                fail(e);
            }
        }

        @Override
        public byte[] challenge(byte[] challenge) throws AttestationException {
            synchronized (this) {
                if (finished) {
                    throw new AttestationException(AttestationException.Reason.REJECTED, STREAM_ENDED);
                }
                awaitingAnswer = true;
                responses.onNext(AttestAgentResponse.newBuilder().setChallenge(ByteString.copyFrom(challenge))
                        .build());
            }
            try {
                byte[] answer = answers.poll(CHALLENGE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (answer == null) {
                    throw new AttestationException(AttestationException.Reason.REJECTED, NO_RESPONSE);
                }
                if (answer == END) {
                    throw new AttestationException(AttestationException.Reason.REJECTED, STREAM_ENDED);
                }
                return answer;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AttestationException(AttestationException.Reason.UNAVAILABLE, STREAM_ENDED);
            } finally {
                awaitingAnswer = false;
            }
        }

        private synchronized void fail(Exception e) {
            if (finished) {
                return;
            }
            finished = true;
            answers.offer(END);
            responses.onError(ApiErrors.toStatus(e, "Agent/AttestAgent").asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
            finished = true;
            answers.offer(END);
        }

        @Override
        public void onCompleted() {
            answers.offer(END);
        }
    }

    @Override
    public void newRenewalChallenge(NewRenewalChallengeRequest request,
            StreamObserver<NewRenewalChallengeResponse> responses) {
        try {
            byte[] challenge = attestation.renewalChallenge(AgentAuthInterceptor.caller());
            responses.onNext(NewRenewalChallengeResponse.newBuilder().setChallenge(ByteString.copyFrom(challenge))
                    .build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "Agent/NewRenewalChallenge").asRuntimeException());
        }
    }

    @Override
    public void renewAgent(RenewAgentRequest request, StreamObserver<RenewAgentResponse> responses) {
        try {
            CallerAgent caller = AgentAuthInterceptor.caller();
            responses.onNext(RenewAgentResponse.newBuilder().setSvid(AgentApiProtos.x509Svid(
                    attestation.renew(caller, request.getParams().getCsr().toByteArray(),
                            request.getAttestationEvidence().toByteArray()))).build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "Agent/RenewAgent").asRuntimeException());
        }
    }
}

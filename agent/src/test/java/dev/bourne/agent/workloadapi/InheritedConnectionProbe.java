package dev.bourne.agent.workloadapi;

import dev.bourne.workload.v1.JWTSVIDRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A workload that did not open its own connection: it gets a Workload API connection another process opened, as
 * stdin (the way a forked child keeps its parent's socket), waits until the test says go (a line on a FIFO), then
 * sends one FetchJWTSVID over raw HTTP/2 and prints {@code STATUS <grpc-status>}.
 *
 * <p>gRPC libraries cannot adopt an already-connected socket, so the request is framed by hand (RFC 9113) with
 * Netty's HPACK encoder and decoder; only what one unary call needs is handled.
 */
public final class InheritedConnectionProbe {
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int SETTINGS = 0x4;
    private static final int CONTINUATION = 0x9;
    private static final int GOAWAY = 0x7;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY = 0x20;

    private InheritedConnectionProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path goSignal = Path.of(args[0]);
        SocketChannel channel = (SocketChannel) System.inheritedChannel();
        if (channel == null) {
            System.out.println("NO-INHERITED-CHANNEL");
            return;
        }
        Files.readAllLines(goSignal); // a FIFO: blocks until the test has reaped the process that connected
        OutputStream out = Channels.newOutputStream(channel);
        InputStream in = Channels.newInputStream(channel);

        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        frame(request, SETTINGS, 0, 0, new byte[0]);
        Http2Headers headers = new DefaultHttp2Headers()
                .method("POST").scheme("http").path("/SpiffeWorkloadAPI/FetchJWTSVID").authority("localhost")
                .add("content-type", "application/grpc").add("te", "trailers").add("workload.spiffe.io", "true");
        ByteBuf block = Unpooled.buffer();
        new DefaultHttp2HeadersEncoder().encodeHeaders(1, headers, block);
        byte[] blockBytes = new byte[block.readableBytes()];
        block.readBytes(blockBytes);
        frame(request, HEADERS, END_HEADERS, 1, blockBytes);
        byte[] message = JWTSVIDRequest.newBuilder().addAudience("probe").build().toByteArray();
        ByteArrayOutputStream grpcMessage = new ByteArrayOutputStream();
        grpcMessage.write(0);
        grpcMessage.writeBytes(new byte[] {0, 0, 0, (byte) message.length});
        grpcMessage.writeBytes(message);
        frame(request, DATA, END_STREAM, 1, grpcMessage.toByteArray());
        out.write(request.toByteArray());
        out.flush();

        DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(true);
        DataInputStream frames = new DataInputStream(in);
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        for (int i = 0; i < 1000; i++) {
            int length;
            try {
                length = (frames.readUnsignedShort() << 8) | frames.readUnsignedByte();
            } catch (EOFException e) {
                System.out.println("STATUS closed-without-status");
                return;
            }
            int type = frames.readUnsignedByte();
            int flags = frames.readUnsignedByte();
            int stream = frames.readInt() & 0x7fffffff;
            byte[] payload = frames.readNBytes(length);
            if (type == SETTINGS && (flags & 0x1) == 0) {
                ByteArrayOutputStream ack = new ByteArrayOutputStream();
                frame(ack, SETTINGS, 0x1, 0, new byte[0]);
                out.write(ack.toByteArray());
                out.flush();
            } else if (type == GOAWAY) {
                System.out.println("STATUS goaway");
                return;
            } else if ((type == HEADERS || type == CONTINUATION) && stream == 1) {
                int offset = 0;
                int end = payload.length;
                if (type == HEADERS && (flags & PADDED) != 0) {
                    end -= payload[0] & 0xff;
                    offset = 1;
                }
                if (type == HEADERS && (flags & PRIORITY) != 0) {
                    offset += 5;
                }
                pending.write(payload, offset, end - offset);
                if ((flags & END_HEADERS) != 0) {
                    Http2Headers decoded = decoder.decodeHeaders(1, Unpooled.wrappedBuffer(pending.toByteArray()));
                    pending.reset();
                    CharSequence status = decoded.get("grpc-status");
                    if (status != null) {
                        System.out.println("STATUS " + status);
                        return;
                    }
                }
            }
        }
        System.out.println("STATUS no-status-in-1000-frames");
    }

    private static void frame(ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.writeBytes(new byte[] {(byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8),
                (byte) stream});
        out.writeBytes(payload);
    }
}

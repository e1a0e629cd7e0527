import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local listening on 127.0.0.1 only and refusing browser, foreign-Host and
 * unauthenticated requests. Run in source-file mode with DynamoDBLocal.jar on the class path,
 * DynamoDB Local's own arguments and the run's access key id in the environment variable
 * {@code SHARDFLOW_LOCAL_ACCESS_KEY_ID} (never an argument: the command line of a process is
 * readable by every user, its environment only by its owner):
 * {@code java -cp DynamoDBLocal.jar LoopbackDynamoDbLocal.java -port N -sharedDb ...}.
 *
 * <p>Why a launcher: DynamoDB Local has no host option (its options are -port, -dbPath, -inMemory,
 * -sharedDb, -cors, -delayTransientStatuses, -optimizeDbBeforeStartup, -disableTelemetry) and no
 * system property for one; {@code DynamoDBProxyServer} builds {@code new org.eclipse.jetty.server.Server(port)},
 * whose connector binds every interface. So this launcher builds the server exactly as DynamoDB
 * Local's own main does ({@code ServerRunner.createServerFromCommandLineArgs}, same options), and
 * before it starts
 * <ul>
 *   <li>sets the host of its Jetty connector to 127.0.0.1 (the server is the private field
 *       {@code server}; a missing field or a connector of another kind stops the start, so DynamoDB
 *       Local never runs unrestricted), and
 *   <li>wraps its handler with {@link Guard}, the rule of loopbackFront.js: a request with an
 *       {@code Origin} or {@code Sec-Fetch-*} header (a browser) or whose {@code Host} is not
 *       {@code 127.0.0.1}, {@code localhost} or {@code [::1]} with this port (DNS rebinding), or
 *       that is not signed with the run's access key id (one {@code Authorization} header,
 *       {@code AWS4-HMAC-SHA256 Credential=<key id>/...}, naming exactly that key id) gets 403
 *       before DynamoDB Local sees it. Inside the engine, so there is no unchecked way in.
 * </ul>
 * The key id acts as a bearer secret, as in loopbackFront.js: the signature is not verified
 * (DynamoDB Local verifies none), because the key id is random per run and reaches no other user
 * (this process's environment, a 0600 state file, loopback traffic, which only root can read).
 * Without a valid key id in the environment it exits before DynamoDB Local starts (fail closed).
 * After the start it checks that every connector is bound to 127.0.0.1, and exits otherwise.
 */
public final class LoopbackDynamoDbLocal {
  private static final String LOOPBACK_HOST = "127.0.0.1";
  private static final List<String> LOOPBACK_HOSTNAMES = List.of("127.0.0.1", "localhost", "[::1]");
  /** The variable that holds the run's access key id (as in loopbackFront.js). */
  private static final String ACCESS_KEY_ID_VARIABLE = "SHARDFLOW_LOCAL_ACCESS_KEY_ID";
  /** What a run's access key id must look like (as ACCESS_KEY_ID_PATTERN of loopbackFront.js). */
  private static final Pattern ACCESS_KEY_ID_PATTERN = Pattern.compile("[A-Za-z0-9]{20,128}");
  /** How a SigV4 {@code Authorization} header starts. */
  private static final String SIGV4_ALGORITHM = "AWS4-HMAC-SHA256 ";
  private static final String CREDENTIAL = "Credential=";
  private static final String SIGN_HINT =
      "sign it with this run's credentials (EngineEndpoints.credentials, in .shardflow/local.json)";

  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    String accessKeyId = System.getenv(ACCESS_KEY_ID_VARIABLE);
    if (accessKeyId == null || !ACCESS_KEY_ID_PATTERN.matcher(accessKeyId).matches()) {
      System.err.println(
          ACCESS_KEY_ID_VARIABLE
              + " must hold the run's access key id ("
              + ACCESS_KEY_ID_PATTERN
              + "): refusing to serve without one");
      System.exit(1);
    }
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected DynamoDB Local connector " + connector);
      }
      ((ServerConnector) connector).setHost(LOOPBACK_HOST);
    }
    server.setHandler(new Guard(server.getHandler(), accessKeyId));
    // Prints "Could not start server on port N: Address already in use" itself when the port is taken.
    proxy.start();
    for (Connector connector : server.getConnectors()) {
      if (connector.isStarted() && !LOOPBACK_HOST.equals(((ServerConnector) connector).getHost())) {
        System.err.println("DynamoDB Local is not bound to " + LOOPBACK_HOST + ": stopping");
        System.exit(1);
      }
    }
  }

  /**
   * Refuses browser requests, Hosts other than loopback names with this port, and requests not
   * signed with the run's access key id (HTTP 403).
   */
  static final class Guard extends Handler.Wrapper {
    private final byte[] accessKeyIdDigest;

    Guard(Handler handler, String accessKeyId) {
      super(handler);
      this.accessKeyIdDigest = sha256(accessKeyId);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String reason = refusalOf(request);
      if (reason == null) return super.handle(request, response, callback);
      byte[] body =
          ("{\"__type\":\"AccessDeniedException\",\"message\":\"shardflow local engine: "
                  + reason.replace("\\", "\\\\").replace("\"", "\\\"")
                  + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      response.setStatus(403);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-amz-json-1.0");
      response.getHeaders().put("x-amzn-ErrorType", "AccessDeniedException");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
      return true;
    }

    private String refusalOf(Request request) {
      for (HttpField field : request.getHeaders()) {
        String name = field.getName().toLowerCase(Locale.ROOT);
        if (name.equals("origin")) {
          return "a browser request (Origin: " + field.getValue() + ") is refused";
        }
        if (name.startsWith("sec-fetch-")) {
          return "a browser request (" + name + ": " + field.getValue() + ") is refused";
        }
      }
      List<String> hosts = request.getHeaders().getValuesList(HttpHeader.HOST);
      if (hosts.isEmpty()) return "a request without Host is refused";
      int port = Request.getLocalPort(request);
      for (String host : hosts) {
        String lower = host.toLowerCase(Locale.ROOT);
        if (LOOPBACK_HOSTNAMES.stream().noneMatch((name) -> lower.equals(name + ":" + port))) {
          return "Host " + host + " is refused: only 127.0.0.1:" + port + ", localhost:" + port
              + ", [::1]:" + port + " are served";
        }
      }
      return credentialRefusalOf(request.getHeaders().getValuesList(HttpHeader.AUTHORIZATION));
    }

    /**
     * Why these {@code Authorization} values do not name the run's access key id, or null when
     * there is exactly one and it does. Never repeats a key id.
     */
    private String credentialRefusalOf(List<String> authorizations) {
      if (authorizations.isEmpty()) return "a request without Authorization is refused: " + SIGN_HINT;
      if (authorizations.size() > 1) return "a request with more than one Authorization is refused";
      String sent = accessKeyIdOf(authorizations.get(0));
      if (sent == null) {
        return "an Authorization that is not AWS Signature Version 4 (AWS4-HMAC-SHA256"
            + " Credential=...) is refused: " + SIGN_HINT;
      }
      // Digests of equal length, compared in constant time: the time tells nothing of the key id.
      if (!MessageDigest.isEqual(sha256(sent), accessKeyIdDigest)) {
        return "a request signed with another access key id is refused: " + SIGN_HINT;
      }
      return null;
    }

    /** The key id of a SigV4 Authorization value (before the first / of Credential=), or null. */
    private static String accessKeyIdOf(String authorization) {
      if (!authorization.startsWith(SIGV4_ALGORITHM)) return null;
      for (String parameter : authorization.substring(SIGV4_ALGORITHM.length()).split(",", -1)) {
        String trimmed = parameter.trim();
        if (!trimmed.startsWith(CREDENTIAL)) continue;
        int slash = trimmed.indexOf('/');
        return slash > CREDENTIAL.length() ? trimmed.substring(CREDENTIAL.length(), slash) : null;
      }
      return null;
    }

    private static byte[] sha256(String value) {
      try {
        return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
      } catch (java.security.NoSuchAlgorithmException error) {
        throw new IllegalStateException("SHA-256 is missing", error);
      }
    }
  }
}

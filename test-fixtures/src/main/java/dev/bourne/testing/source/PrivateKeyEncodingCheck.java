package dev.bourne.testing.source;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ExpressionTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MemberReferenceTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import com.sun.source.util.Trees;

import javax.lang.model.element.Element;
import javax.lang.model.element.TypeElement;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.Types;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A source check that private keys never leave the code as bytes: finds every {@code getEncoded()} call (and
 * {@code ::getEncoded} reference) whose receiver's static type is {@code java.security.PrivateKey}, a subtype of it
 * ({@code RSAPrivateKey}, {@code ECPrivateKey}, a type variable bounded by it) or the raw {@code java.security.Key}
 * interface (which may hold a private key). Public keys, certificates and secret keys are not reported.
 *
 * <p>It runs the JDK's own compiler (parse and attribute, nothing written) over a module's main sources with that
 * module's class path, so the static types are exactly javac's. Places that must encode a private key (a development
 * key manager writing its own PKCS#8 file) are named in an explicit allowlist of {@code fully.qualified.Class#method}
 * entries, reviewed like code.
 *
 * <p>Use from a module's tests, where surefire's working directory is the module and {@code java.class.path} holds
 * its dependencies:
 * <pre>{@code
 * List<Violation> found = PrivateKeyEncodingCheck.check(List.of(Path.of("src/main/java")),
 *         System.getProperty("java.class.path"), Set.of(), List.of());
 * assertEquals(List.of(), found);
 * }</pre>
 */
public final class PrivateKeyEncodingCheck {

    /** One offending call: where it is, in which method, and the receiver's static type. */
    public record Violation(Path file, long line, String method, String receiverType) {
        public Violation {
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(receiverType, "receiverType");
        }

        @Override
        public String toString() {
            return file + ":" + line + ": " + method + " calls getEncoded() on a " + receiverType
                    + ": private keys must never be encoded";
        }
    }

    private PrivateKeyEncodingCheck() {
    }

    /**
     * Checks every {@code .java} file under {@code sourceRoots}.
     *
     * @param classPath the class path the sources compile against (a module's {@code java.class.path} in its tests)
     * @param allowlist {@code fully.qualified.Class#method} entries whose calls are allowed; a nested class is
     *     {@code Outer.Inner}, a constructor {@code <init>}, an initialiser {@code <clinit>}
     * @param compilerOptions extra javac options the sources need, such as {@code --add-exports}
     * @return the violations, sorted by file and line; empty when the sources are clean
     * @throws IllegalStateException when the sources do not compile (the check needs their types)
     */
    public static List<Violation> check(List<Path> sourceRoots, String classPath, Set<String> allowlist,
            List<String> compilerOptions) {
        Objects.requireNonNull(allowlist, "allowlist");
        List<File> files = new ArrayList<>();
        for (Path root : sourceRoots) {
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("not a source directory: " + root.toAbsolutePath());
            }
            try (Stream<Path> paths = Files.walk(root)) {
                paths.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p)).sorted()
                        .forEach(p -> files.add(p.toFile()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + root, e);
            }
        }
        if (files.isEmpty()) {
            return List.of();
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        if (compiler == null) {
            throw new IllegalStateException("no system Java compiler: run the tests on a JDK, not a JRE");
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager fileManager = compiler.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            List<String> options = new ArrayList<>(List.of("-proc:none", "-Xlint:none", "-classpath",
                    classPath == null ? "" : classPath));
            options.addAll(compilerOptions);
            JavacTask task = (JavacTask) compiler.getTask(null, fileManager, diagnostics, options, null,
                    fileManager.getJavaFileObjectsFromFiles(files));
            Iterable<? extends CompilationUnitTree> units = task.parse();
            task.analyze();
            List<Diagnostic<? extends JavaFileObject>> errors = diagnostics.getDiagnostics().stream()
                    .filter(d -> d.getKind() == Diagnostic.Kind.ERROR).toList();
            if (!errors.isEmpty()) {
                throw new IllegalStateException("the sources do not compile, so their types are unknown:\n"
                        + errors.stream().limit(20).map(d -> d.getSource() + ":" + d.getLineNumber() + ": "
                                + d.getMessage(Locale.ROOT)).collect(Collectors.joining("\n")));
            }
            Scanner scanner = new Scanner(task, allowlist);
            for (CompilationUnitTree unit : units) {
                scanner.unit = unit;
                scanner.scan(unit, null);
            }
            scanner.found.sort(Comparator.comparing((Violation v) -> v.file().toString())
                    .thenComparingLong(Violation::line));
            return List.copyOf(scanner.found);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the compiler's file manager", e);
        }
    }

    /** Walks one compilation unit after attribution, reporting offending calls. */
    private static final class Scanner extends TreePathScanner<Void, Void> {
        private final Trees trees;
        private final Types types;
        private final SourcePositions positions;
        private final TypeMirror privateKey;
        private final TypeMirror rawKey;
        private final Set<String> allowlist;
        private final List<Violation> found = new ArrayList<>();
        private CompilationUnitTree unit;

        Scanner(JavacTask task, Set<String> allowlist) {
            this.trees = Trees.instance(task);
            this.types = task.getTypes();
            this.positions = trees.getSourcePositions();
            this.privateKey = types.erasure(task.getElements().getTypeElement("java.security.PrivateKey").asType());
            this.rawKey = types.erasure(task.getElements().getTypeElement("java.security.Key").asType());
            this.allowlist = allowlist;
        }

        @Override
        public Void visitMethodInvocation(MethodInvocationTree node, Void unused) {
            if (node.getArguments().isEmpty()) {
                ExpressionTree select = node.getMethodSelect();
                if (select instanceof MemberSelectTree member && member.getIdentifier().contentEquals("getEncoded")) {
                    check(node, typeOf(member.getExpression()));
                } else if (select instanceof IdentifierTree identifier
                        && identifier.getName().contentEquals("getEncoded")) {
                    // An unqualified call inside a class: the receiver is this.
                    check(node, enclosingClassType());
                }
            }
            return super.visitMethodInvocation(node, unused);
        }

        @Override
        public Void visitMemberReference(MemberReferenceTree node, Void unused) {
            if (node.getName().contentEquals("getEncoded")) {
                check(node, typeOf(node.getQualifierExpression()));
            }
            return super.visitMemberReference(node, unused);
        }

        private TypeMirror typeOf(ExpressionTree expression) {
            return trees.getTypeMirror(new TreePath(getCurrentPath(), expression));
        }

        private TypeMirror enclosingClassType() {
            for (TreePath path = getCurrentPath(); path != null; path = path.getParentPath()) {
                if (path.getLeaf() instanceof ClassTree) {
                    Element element = trees.getElement(path);
                    return element == null ? null : element.asType();
                }
            }
            return null;
        }

        private void check(Tree node, TypeMirror receiver) {
            if (receiver == null || receiver.getKind() == TypeKind.ERROR || receiver.getKind() == TypeKind.PACKAGE) {
                return;
            }
            TypeMirror erased = types.erasure(receiver);
            boolean isPrivate = types.isSubtype(erased, privateKey);
            boolean isRawKey = types.isSameType(erased, rawKey);
            if (!isPrivate && !isRawKey) {
                return;
            }
            String method = enclosingMethod();
            if (allowlist.contains(method)) {
                return;
            }
            long line = unit.getLineMap().getLineNumber(positions.getStartPosition(unit, node));
            found.add(new Violation(Path.of(unit.getSourceFile().toUri()), line, method, receiver.toString()));
        }

        /** {@code fully.qualified.Class#method} of the current position. */
        private String enclosingMethod() {
            String method = null;
            boolean inLambdaOrInitializer = false;
            for (TreePath path = getCurrentPath(); path != null; path = path.getParentPath()) {
                Tree leaf = path.getLeaf();
                if (leaf instanceof LambdaExpressionTree) {
                    inLambdaOrInitializer = true;
                } else if (leaf instanceof MethodTree m && method == null) {
                    method = m.getName().toString();
                } else if (leaf instanceof ClassTree) {
                    Element element = trees.getElement(path);
                    String type = element instanceof TypeElement t ? t.getQualifiedName().toString() : "?";
                    if (method == null) {
                        // A field initialiser or initialiser block.
                        method = "<clinit>";
                    }
                    return type + "#" + method;
                }
            }
            return "?#" + (method == null ? (inLambdaOrInitializer ? "<lambda>" : "?") : method);
        }
    }
}

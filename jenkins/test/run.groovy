// Runs every test* method of the test classes; exits 1 if any fails.
import java.lang.reflect.InvocationTargetException

int passed = 0
List<String> failures = []
[ShellTest, TokenTest, OptionsTest, WithShortfuseTest, GetTempCredsTest].each { Class cls ->
    cls.declaredMethods.findAll { it.name.startsWith('test') }.sort { it.name }.each { m ->
        String name = "${cls.simpleName}.${m.name}"
        try {
            m.invoke(cls.getDeclaredConstructor().newInstance())
            passed++
            println "ok   ${name}"
        } catch (InvocationTargetException e) {
            failures << name
            println "FAIL ${name}\n${e.cause}"
        }
    }
}
println "${passed} passed, ${failures.size()} failed"
System.exit(failures ? 1 : 0)

import io.shortfuse.jenkins.Shell

class ShellTest {
    void testQuoteSurvivesTheShell() {
        List<String> words = ['plain', 'with space', "it's", '"double"', '$HOME `id` $(id)', 'a\\b', '', 'line\nbreak', '*', ';rm -rf /']
        assert Assert.argv('shortfuse ' + Shell.join(words)) == words
    }

    void testQuoteRefusesNull() {
        Assert.throwsIAE { Shell.quote(null) }
    }
}

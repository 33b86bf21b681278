/// Every scenario pteinspect knows, in the order `scenario run` runs them.
public enum ScenarioCatalog {
    public static let all: [Scenario] = [
        AnonScenarios.faults,
        AnonScenarios.forkCOW,
        AnonScenarios.forkDontfork,
        AnonScenarios.forkWipeonfork,
        MremapScenarios.exclusive,
        MremapScenarios.shared,
        SwapScenarios.pageout,
        SwapScenarios.fork,
        SwapScenarios.swapoff,
        UffdScenarios.basics,
        UffdScenarios.minorContinue,
        UffdScenarios.wpMarker,
        UffdScenarios.move,
        UffdScenarios.moveSwapcache,
        UffdScenarios.moveAbsent,
        PageKindScenarios.ksm,
        PageKindScenarios.procMem,
        PageKindScenarios.pinFork,
        PageKindScenarios.pfnmap,
        PageKindScenarios.thp,
        PageKindScenarios.thpPageout,
    ]

    public static func named(_ name: String) -> Scenario? { all.first { $0.name == name } }
}

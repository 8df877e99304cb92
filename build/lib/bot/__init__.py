"""figurebot core: photo intake, figure specs, generators, box art and (later) the job engine."""
